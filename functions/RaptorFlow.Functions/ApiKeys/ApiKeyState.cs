namespace RaptorFlow.Functions.ApiKeys;

/// <summary>A key's state as the API shows it: revoked, past its expiry, or active.</summary>
public enum ApiKeyState
{
    Active,
    Expired,
    Revoked,
}
