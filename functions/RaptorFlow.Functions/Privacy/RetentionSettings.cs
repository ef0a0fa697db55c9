using System.ComponentModel.DataAnnotations;
using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Privacy;

/// <summary>How long deleted orgs and the records of live ones are kept (README, "Privacy").</summary>
public sealed class RetentionSettings : ISettingsSection
{
    public static string SectionName => "Privacy:Retention";

    /// <summary>
    /// Days a deleted org can be restored before it is purged. At least two, so the month it was
    /// deleted in is invoiced (the daily invoice run closes it) before its billing rows go.
    /// </summary>
    [Range(2, 365)]
    public int OrgGraceDays { get; set; } = 30;

    /// <summary>Days raw usage events are kept (only once rolled up); the totals stay. Never below the 35 days an event may arrive late, so an event id is remembered as long as it may be sent.</summary>
    [Range(35, 3650)]
    public int UsageEventDays { get; set; } = 35;

    /// <summary>Days webhook messages and their delivery attempts are kept.</summary>
    [Range(1, 3650)]
    public int WebhookDeliveryDays { get; set; } = 30;

    /// <summary>Days audit events are kept.</summary>
    [Range(30, 36500)]
    public int AuditEventDays { get; set; } = 400;

    /// <summary>How many orgs a retention or purge run enqueues at once.</summary>
    [Range(1, 64)]
    public int Concurrency { get; set; } = 8;

    public TimeSpan OrgGrace => TimeSpan.FromDays(OrgGraceDays);
}
