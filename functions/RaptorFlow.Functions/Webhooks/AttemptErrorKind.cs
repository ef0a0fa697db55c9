namespace RaptorFlow.Functions.Webhooks;

/// <summary>Why an attempt got no HTTP response: the <c>errorKind</c> values of the delivery log.</summary>
public static class AttemptErrorKind
{
    public const string Timeout = "timeout";
    public const string Dns = "dns";
    public const string Tls = "tls";
    public const string Refused = "refused";
    public const string Blocked = "blocked";
    public const string Connection = "connection";
    public const string EndpointDisabled = "endpoint_disabled";
}
