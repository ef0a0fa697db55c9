using System.ComponentModel.DataAnnotations;
using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Usage;

public sealed class UsageMeterSettings : ISettingsSection
{
    public static string SectionName => "Usage:Meter";

    /// <summary>How often buffered counts are written. A crash loses at most this much metered traffic.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(15);
}
