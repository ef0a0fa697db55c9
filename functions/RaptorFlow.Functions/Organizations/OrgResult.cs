using RaptorFlow.Functions.Audit;

namespace RaptorFlow.Functions.Organizations;

/// <summary>A change to an org: its outcome, the org row as written, and the fields it changed.</summary>
public sealed record OrgResult(OrgOutcome Outcome, OrgRow? Org = null, IReadOnlyDictionary<string, AuditChange>? Changes = null);
