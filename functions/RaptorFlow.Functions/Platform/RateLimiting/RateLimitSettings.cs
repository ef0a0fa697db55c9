using System.ComponentModel.DataAnnotations;
using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Platform.RateLimiting;

/// <summary>
/// The <c>RateLimits</c> section: how often each instance settles its share of the shared budgets,
/// and the limits of user-token traffic and of anonymous routes. API keys and orgs take theirs from
/// the key and the org's plan.
/// </summary>
public sealed class RateLimitSettings : ISettingsSection
{
    public static string SectionName => "RateLimits";

    /// <summary>The table of the shared buckets; instances that share it share the limits.</summary>
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,62}$")]
    public string Table { get; set; } = SharedBucketRow.TableName;

    /// <summary>How often an instance leases from (and gives back to) the shared budgets in storage.</summary>
    [Range(100, 10_000)]
    public int SyncMilliseconds { get; set; } = 1_000;

    /// <summary>Requests a minute one signed-in user may make, across all orgs and instances.</summary>
    [Range(1, 1_000_000)]
    public int UserPerMinute { get; set; } = 3_000;

    /// <summary>Requests a minute all signed-in users together may make in one org's routes.</summary>
    [Range(1, 1_000_000)]
    public int UserOrgPerMinute { get; set; } = 12_000;

    /// <summary>Razorpay webhook deliveries a minute from one client address (Razorpay sends from a few).</summary>
    [Range(1, 1_000_000)]
    public int RazorpayWebhookPerAddress { get; set; } = 30_000;

    /// <summary>Invitation accepts a minute from one client address: an invitation token is a secret, so guessing is slowed.</summary>
    [Range(1, 1_000_000)]
    public int InvitationAcceptPerAddress { get; set; } = 30;

    /// <summary>One-click unsubscribes a minute from one client address (mail providers post them on the user's behalf).</summary>
    [Range(1, 1_000_000)]
    public int MailUnsubscribePerAddress { get; set; } = 30;

    /// <summary>Development tokens a minute from one client address (the development issuer only).</summary>
    [Range(1, 1_000_000)]
    public int DevTokenPerAddress { get; set; } = 600;
}
