namespace RaptorFlow.Functions.Platform.Access;

/// <summary>What a caller may do inside one org, resolved per request.</summary>
public sealed record OrgAccess(string OrgId, Role? Role, IReadOnlySet<string> Capabilities)
{
    /// <summary>
    /// The org's record as the resolver read it for this request, so an endpoint about the org
    /// itself answers from it instead of reading the same row again. It lives as long as the
    /// request; nothing keeps it beyond.
    /// </summary>
    public IOrgRecord? Org { get; init; }
}
