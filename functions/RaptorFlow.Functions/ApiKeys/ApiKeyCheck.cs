namespace RaptorFlow.Functions.ApiKeys;

public readonly record struct ApiKeyCheck(ApiKeyOutcome Outcome, VerifiedKey? Key)
{
    public static ApiKeyCheck Rejected(ApiKeyOutcome outcome) => new(outcome, null);
}
