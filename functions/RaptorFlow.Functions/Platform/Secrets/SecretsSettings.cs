using System.ComponentModel.DataAnnotations;
using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Platform.Secrets;

public sealed class SecretsSettings : ISettingsSection
{
    public static string SectionName => "Secrets";

    /// <summary>How long a fetched value is served before it is fetched again, so a rotation is picked up without a restart.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A forced refresh (after a signature mismatch) happens at most this often.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan MinimumForcedRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);
}
