namespace RaptorFlow.Functions.Audit;

/// <summary>What happened: an action in the domain's words (<c>org.updated</c>) to a target.</summary>
public sealed record AuditEntry(
    string Action,
    string TargetType,
    string TargetId,
    IReadOnlyDictionary<string, AuditChange>? Changes = null);
