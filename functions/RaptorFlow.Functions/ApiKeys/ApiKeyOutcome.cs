namespace RaptorFlow.Functions.ApiKeys;

public enum ApiKeyOutcome
{
    Valid,
    Malformed,
    Unknown,
    Revoked,
    Expired,
    OrgDeleted,
}
