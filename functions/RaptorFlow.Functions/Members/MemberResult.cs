using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Organizations;

namespace RaptorFlow.Functions.Members;

/// <summary>A change to a membership: its outcome, the member row as written, and the roles it changed.</summary>
public sealed record MemberResult(MemberOutcome Outcome, MemberRow? Member = null, IReadOnlyDictionary<string, AuditChange>? Changes = null);
