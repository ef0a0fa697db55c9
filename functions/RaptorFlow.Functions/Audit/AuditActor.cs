using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Functions.Audit;

/// <summary>Who did it: a user, an API key, or the platform itself (background work).</summary>
public sealed record AuditActor(string Kind, string Id, string? Email = null)
{
    public const string SystemKind = "system";

    public static AuditActor From(Caller caller) =>
        new(caller.IsUser ? CallerClaims.UserKind : CallerClaims.ApiKeyKind, caller.Id, caller.Email);

    public static AuditActor System(string component) => new(SystemKind, component);

    public string Reference => $"{Kind}:{Id}";
}
