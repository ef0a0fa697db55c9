namespace RaptorFlow.Functions.Audit;

public sealed record AuditEventResponse(
    string Id,
    string Action,
    AuditActorResponse Actor,
    AuditTargetResponse Target,
    DateTimeOffset OccurredAt,
    string? Ip,
    string? UserAgent,
    string? RequestId,
    IReadOnlyDictionary<string, AuditChange>? Changes);

public sealed record AuditActorResponse(string Kind, string Id, string? Email);

public sealed record AuditTargetResponse(string Type, string Id);
