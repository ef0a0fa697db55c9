using System.ComponentModel.DataAnnotations;
using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Hosting.Standalone;

/// <summary>
/// How the process runs its own triggers when no Functions host drives it. The defaults mirror
/// host.json (a test keeps them equal).
/// </summary>
public sealed class StandaloneTriggerSettings : ISettingsSection
{
    public static string SectionName => "Hosting:Standalone";

    /// <summary>Off turns a standalone process into an HTTP-only one.</summary>
    public bool Enabled { get; set; } = true;

    [Range(1, 100)]
    public int MaxDequeueCount { get; set; } = 5;

    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);

    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan MaxPollingInterval { get; set; } = TimeSpan.FromSeconds(2);

    [Range(1, 32)]
    public int BatchSize { get; set; } = 16;

    /// <summary>The next batch is received once no more than this many messages are still running.</summary>
    [Range(0, 32)]
    public int NewBatchThreshold { get; set; } = 8;

    /// <summary>How long a timer's lease is held while it fires; renewed while the function runs.</summary>
    [Range(typeof(TimeSpan), "00:00:15", "00:01:00")]
    public TimeSpan TimerLeaseDuration { get; set; } = TimeSpan.FromSeconds(30);
}
