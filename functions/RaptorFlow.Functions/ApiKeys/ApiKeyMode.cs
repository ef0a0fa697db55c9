namespace RaptorFlow.Functions.ApiKeys;

/// <summary>Whether a key works against live data or is for testing an integration.</summary>
public enum ApiKeyMode
{
    Live,
    Test,
}
