using System.ComponentModel.DataAnnotations;
using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Plans;

/// <summary>
/// <c>Plans:DefaultPlanId</c>. The catalog itself is <c>Plans:Catalog:{id}:{field}</c>, bound over the
/// built-in <c>free</c>, <c>pro</c> and <c>enterprise</c> plans: configuration changes their fields or adds plans.
/// </summary>
public sealed class PlanSettings : ISettingsSection
{
    public const string CatalogSection = "Plans:Catalog";

    public static string SectionName => "Plans";

    /// <summary>The plan every org starts on; it must be in the catalog and cost nothing.</summary>
    [Required]
    public string DefaultPlanId { get; set; } = "free";

    /// <summary>Billing cycles (months) a Razorpay subscription started here runs for (its <c>total_count</c>).</summary>
    [Range(1, 1200)]
    public int RazorpayTotalCount { get; set; } = 120;

    /// <summary>The built-in catalog with configuration bound over it.</summary>
    public static Dictionary<string, PlanDefinition> CatalogFrom(IConfiguration configuration)
    {
        var catalog = BuiltIn();
        configuration.GetSection(CatalogSection).Bind(catalog);
        return catalog;
    }

    public static Dictionary<string, PlanDefinition> BuiltIn() => new(StringComparer.Ordinal)
    {
        ["free"] = new()
        {
            Name = "Free",
            MonthlyFeeMinor = 0,
            ApiRateLimitPerMinute = 60,
            Meters = { [Usage.Meters.ApiCalls] = new() { IncludedQuantity = 10_000, UnitSize = 1_000, PricePerUnitBlockMinor = 0 } },
        },
        ["pro"] = new()
        {
            Name = "Pro",
            MonthlyFeeMinor = 2_999_00,
            ApiRateLimitPerMinute = 600,
            Meters = { [Usage.Meters.ApiCalls] = new() { IncludedQuantity = 1_000_000, UnitSize = 10_000, PricePerUnitBlockMinor = 50_00 } },
        },
        ["enterprise"] = new()
        {
            Name = "Enterprise",
            MonthlyFeeMinor = 24_999_00,
            ApiRateLimitPerMinute = 3_000,
            Meters = { [Usage.Meters.ApiCalls] = new() { IncludedQuantity = 20_000_000, UnitSize = 10_000, PricePerUnitBlockMinor = 30_00 } },
        },
    };
}

/// <summary>One plan in configuration (<c>Plans:Catalog:{id}</c>).</summary>
public sealed class PlanDefinition
{
    [Required, StringLength(100, MinimumLength = 1)]
    public string Name { get; set; } = "";

    [Range(0, 100_000_000_000)]
    public long MonthlyFeeMinor { get; set; }

    [Required, RegularExpression("^[A-Z]{3}$")]
    public string Currency { get; set; } = "INR";

    [Range(1, 1_000_000)]
    public int ApiRateLimitPerMinute { get; set; }

    public string? RazorpayPlanId { get; set; }

    public Dictionary<string, MeterPriceDefinition> Meters { get; set; } = new(StringComparer.Ordinal);
}

public sealed class MeterPriceDefinition
{
    [Range(0, long.MaxValue)]
    public long IncludedQuantity { get; set; }

    [Range(1, long.MaxValue)]
    public long UnitSize { get; set; } = 1;

    [Range(0, 100_000_000_000)]
    public long PricePerUnitBlockMinor { get; set; }
}
