namespace RaptorFlow.Functions.ApiKeys;

/// <summary>The result of a change to a key: how it ended and, when written, the key and any new secret.</summary>
public sealed record KeyChange(KeyChangeOutcome Outcome, ApiKeyRow? Key = null, string? Secret = null)
{
    public static readonly KeyChange NotFound = new(KeyChangeOutcome.NotFound);
    public static readonly KeyChange Stale = new(KeyChangeOutcome.Stale);
}
