namespace RaptorFlow.Functions.Webhooks;

/// <summary>What happened to one message: the status values of <see cref="WebhookMessageRow.Status"/>.</summary>
public static class DeliveryStatus
{
    public const string Pending = "pending";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Aborted = "aborted";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Pending, Succeeded, Failed, Aborted };
}
