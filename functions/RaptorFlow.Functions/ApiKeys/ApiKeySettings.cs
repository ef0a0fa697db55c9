using System.ComponentModel.DataAnnotations;
using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>The <c>ApiKeys</c> section.</summary>
public sealed class ApiKeySettings : ISettingsSection
{
    public static string SectionName => "ApiKeys";

    /// <summary>How long a verified key is trusted from memory; at most 30 s, so a change made on another instance takes effect within that.</summary>
    [Range(1, 30)]
    public int CacheSeconds { get; set; } = 30;

    /// <summary>Verified keys held in memory per instance.</summary>
    [Range(16, 1_000_000)]
    public int CacheCapacity { get; set; } = 10_000;

    /// <summary>How often last-used times are written; at most 60 s so <c>lastUsedAt</c> stays within a minute of truth.</summary>
    [Range(1, 60)]
    public int LastUsedFlushSeconds { get; set; } = 30;

    /// <summary>
    /// Under the Functions host, take the client address (for <c>allowedCidrs</c> and audit events) from the last
    /// <c>X-Forwarded-For</c> entry when the peer is loopback (the host). Ignored standalone, where any local process is loopback.
    /// </summary>
    public bool TrustForwardedFor { get; set; }
}
