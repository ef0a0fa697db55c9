namespace RaptorFlow.Functions.Platform.Access;

public enum CallerKind
{
    User,
    ApiKey,
}
