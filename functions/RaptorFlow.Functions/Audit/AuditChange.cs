namespace RaptorFlow.Functions.Audit;

/// <summary>A field's value before and after a change.</summary>
public sealed record AuditChange(string? Before, string? After);
