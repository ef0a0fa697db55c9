using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Platform.Settings;
using RaptorFlow.Functions.Usage;

namespace RaptorFlow.Functions.Plans;

/// <summary>Overage is charged per started block of <see cref="UnitSize"/> units beyond the included quota.</summary>
public sealed record MeterPrice(long IncludedQuantity, long UnitSize, long PricePerUnitBlockMinor)
{
    /// <summary>The overage charge, in minor units, for <paramref name="used"/> units in one billing period.</summary>
    public long OverageMinor(long used)
    {
        var over = used - IncludedQuantity;
        if (over <= 0)
        {
            return 0;
        }

        var blocks = (over / UnitSize) + (over % UnitSize == 0 ? 0 : 1);
        return checked(blocks * PricePerUnitBlockMinor);
    }
}

/// <summary>A plan as sold: fee per calendar month (UTC), included quota and overage price per meter, and the API rate limit.</summary>
public sealed record Plan(string Id, string Name, long MonthlyFeeMinor, string Currency, IReadOnlyDictionary<string, MeterPrice> Meters, int ApiRateLimitPerMinute)
{
    /// <summary>The Razorpay plan (<c>plan_…</c>) ops created for this plan, when Razorpay collects its fee; null otherwise.</summary>
    public string? RazorpayPlanId { get; init; }

    public bool IsPaid => MonthlyFeeMinor > 0;
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

/// <summary>Checks what DataAnnotations cannot: ids, meter names, nested values and the default plan.</summary>
internal sealed class PlanSettingsValidation(IConfiguration configuration, IGeneratedSettings generated) : IValidateOptions<PlanSettings>
{
    public ValidateOptionsResult Validate(string? name, PlanSettings options)
    {
        var errors = new List<string>();
        var catalog = PlanSettings.CatalogFrom(configuration);
        foreach (var (id, plan) in catalog)
        {
            if (!PlanCatalog.IsValidPlanId(id))
            {
                errors.Add($"Plans:Catalog:{id}: a plan id is 1-40 characters of a-z, 0-9, '_' and '-'.");
            }

            errors.AddRange(generated.Validate(null, plan).Failures?.Select(f => $"Plans:Catalog:{id}:{f}") ?? []);
            foreach (var (meter, price) in plan.Meters)
            {
                if (!UsageEventRules.IsValidMeter(meter))
                {
                    errors.Add($"Plans:Catalog:{id}:Meters:{meter}: not a valid meter name.");
                }

                errors.AddRange(generated.Validate(null, price).Failures?.Select(f => $"Plans:Catalog:{id}:Meters:{meter}:{f}") ?? []);
            }
        }

        if (!catalog.TryGetValue(options.DefaultPlanId, out var defaultPlan))
        {
            errors.Add($"Plans:DefaultPlanId: '{options.DefaultPlanId}' is not in the catalog.");
        }
        else if (defaultPlan.MonthlyFeeMinor != 0)
        {
            errors.Add("Plans:DefaultPlanId: the plan new orgs start on must cost nothing.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>The plans on sale, read once from configuration.</summary>
public sealed class PlanCatalog
{
    private readonly Dictionary<string, Plan> _plans;

    public PlanCatalog(IOptions<PlanSettings> options, IConfiguration configuration)
    {
        var settings = options.Value;
        var catalog = PlanSettings.CatalogFrom(configuration);
        _plans = catalog.ToDictionary(
            p => p.Key,
            p => new Plan(
                p.Key,
                p.Value.Name,
                p.Value.MonthlyFeeMinor,
                p.Value.Currency,
                p.Value.Meters.ToDictionary(m => m.Key, m => new MeterPrice(m.Value.IncludedQuantity, m.Value.UnitSize, m.Value.PricePerUnitBlockMinor), StringComparer.Ordinal),
                p.Value.ApiRateLimitPerMinute)
            {
                RazorpayPlanId = string.IsNullOrWhiteSpace(p.Value.RazorpayPlanId) ? null : p.Value.RazorpayPlanId,
            },
            StringComparer.Ordinal);
        All = [.. _plans.Values.OrderBy(p => p.MonthlyFeeMinor).ThenBy(p => p.Id, StringComparer.Ordinal)];
        Default = _plans[settings.DefaultPlanId];
    }

    public IReadOnlyList<Plan> All { get; }

    /// <summary>The plan new orgs start on (<c>free</c> unless configured otherwise).</summary>
    public Plan Default { get; }

    public Plan Get(string planId) =>
        _plans.TryGetValue(planId, out var plan) ? plan : throw new KeyNotFoundException($"There is no plan '{planId}'.");

    public bool TryGet(string planId, out Plan plan)
    {
        if (_plans.TryGetValue(planId, out var found))
        {
            plan = found;
            return true;
        }

        plan = Default;
        return false;
    }

    /// <summary>The plan whose fee the Razorpay plan <paramref name="razorpayPlanId"/> collects.</summary>
    public Plan? FindByRazorpayPlanId(string? razorpayPlanId) =>
        razorpayPlanId is null ? null : _plans.Values.FirstOrDefault(p => string.Equals(p.RazorpayPlanId, razorpayPlanId, StringComparison.Ordinal));

    public static bool IsValidPlanId(string? id) =>
        id is { Length: >= 1 and <= 40 } && id.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-');
}
