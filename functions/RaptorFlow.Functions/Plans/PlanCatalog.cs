using Microsoft.Extensions.Options;

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
