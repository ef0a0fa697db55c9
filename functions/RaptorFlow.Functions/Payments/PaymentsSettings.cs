using System.ComponentModel.DataAnnotations;
using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Payments;

public sealed class PaymentsSettings : ISettingsSection
{
    public static string SectionName => "Payments";

    /// <summary>The smallest prepaid-credit top-up, in minor units (Razorpay's own floor is ₹1).</summary>
    [Range(100, 1_000_000_000_000)]
    public long MinTopUpMinor { get; set; } = 100_00;

    /// <summary>The largest prepaid-credit top-up, in minor units.</summary>
    [Range(100, 1_000_000_000_000)]
    public long MaxTopUpMinor { get; set; } = 10_00_000_00;

    /// <summary>The merchant name Checkout shows.</summary>
    [Required]
    [StringLength(100, MinimumLength = 1)]
    public string CheckoutName { get; set; } = "RaptorFlow";

    /// <summary>What <c>Retry-After</c> says when Razorpay is unavailable.</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 30;
}
