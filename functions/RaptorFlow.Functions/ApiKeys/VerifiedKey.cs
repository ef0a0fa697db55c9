using System.Collections.Frozen;
using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>What a verified key may do: its org, capabilities, address rules and limits.</summary>
public sealed record VerifiedKey(
    string KeyId,
    string OrgId,
    string Name,
    IReadOnlyList<string> Capabilities,
    IReadOnlyList<CidrBlock> AllowedCidrs,
    int KeyRateLimitPerMinute,
    int OrgRateLimitPerMinute)
{
    // Built once per verified key, so the hot path does not concatenate names per request.
    internal string KeyBucket { get; } = "key:" + KeyId;
    internal string OrgBucket { get; } = "org:" + OrgId;

    /// <summary>The caller this key authenticates as, built once per verified key rather than per request.</summary>
    internal Caller Caller { get; } = new(
        CallerKind.ApiKey, KeyId, OrgId, null, Name, null,
        Capabilities.Where(Capability.OrgScoped.Contains).ToFrozenSet(StringComparer.Ordinal));
}
