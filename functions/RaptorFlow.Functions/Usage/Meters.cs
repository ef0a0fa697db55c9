namespace RaptorFlow.Functions.Usage;

/// <summary>Meter names the platform itself records.</summary>
public static class Meters
{
    /// <summary>Requests made with an API key; counted by the admission of API-key requests.</summary>
    public const string ApiCalls = "api_calls";
}
