namespace RaptorFlow.Functions.Webhooks;

/// <summary>The outcome of one HTTP attempt.</summary>
public sealed record AttemptOutcome(int? StatusCode, TimeSpan Duration, string? ResponseBody, string? ErrorKind, bool AbortRequested)
{
    public bool Succeeded => StatusCode is >= 200 and < 300;
}
