namespace RaptorFlow.Functions.ApiKeys;

public enum ApiKeyStatus
{
    Active,
    Revoked,
}
