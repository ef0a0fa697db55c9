using System.Globalization;
using RaptorFlow.Functions.Plans;

namespace RaptorFlow.Functions.Invoices;

/// <summary>What a line bills.</summary>
public enum InvoiceLineKind
{
    /// <summary>The monthly fee of the one plan that billed every day of the period.</summary>
    PlanFee,
    Overage,
    Gst,

    /// <summary>A plan's fee for the days of the period it billed, when plans changed during the period.</summary>
    Proration,

    /// <summary>Usage of an earlier, already invoiced period that arrived after that invoice.</summary>
    PriorPeriodUsage,

    /// <summary>Prepaid credit applied when the invoice was issued: a payment (negative amount), not a discount; it changes no tax.</summary>
    CreditApplied,
}

/// <summary>
/// One invoice line. For overage, <see cref="Quantity"/> is the number of started blocks of
/// <see cref="UnitSize"/> units beyond the included quantity and <see cref="UnitPriceMinor"/> the
/// price of one block; <see cref="Used"/> and <see cref="Included"/> say how it was derived. A
/// proration bills <see cref="Days"/> of <see cref="DaysInPeriod"/> of <see cref="PlanId"/>'s
/// monthly fee (<see cref="UnitPriceMinor"/>) from <see cref="From"/> to <see cref="To"/>; a
/// prior-period line names the period (<see cref="From"/>) whose usage it bills.
/// </summary>
public sealed record InvoiceLine(
    InvoiceLineKind Kind,
    string Description,
    long Quantity,
    long UnitPriceMinor,
    long AmountMinor,
    string? Meter = null,
    long? Used = null,
    long? Included = null,
    long? UnitSize = null)
{
    public string? PlanId { get; init; }
    public int? Days { get; init; }
    public int? DaysInPeriod { get; init; }
    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }

    /// <summary>For a prior-period line: how much of the meter earlier invoices had billed.</summary>
    public long? BilledBefore { get; init; }
}

public sealed record InvoiceAmounts(string Currency, IReadOnlyList<InvoiceLine> Lines, long SubtotalMinor, long TaxMinor, long TotalMinor);

/// <summary>A plan that bills from <see cref="From"/> until the next one; <see cref="ChargeFee"/> is false while a Razorpay subscription collects its fee.</summary>
public sealed record PlanInEffect(DateTimeOffset From, Plan Plan, bool ChargeFee = true)
{
    public long DailyBasisMinor => ChargeFee ? Plan.MonthlyFeeMinor : 0;
}

/// <summary>Consecutive days of a period billed at one plan: [<see cref="From"/>, <see cref="To"/>).</summary>
public sealed record PlanDays(PlanInEffect Plan, DateTimeOffset From, DateTimeOffset To, int Days);

/// <summary>
/// What an earlier, invoiced period's usage is now (<see cref="Now"/>) against what invoices have
/// billed of it (<see cref="Billed"/>), priced by the plan that priced that period.
/// </summary>
public sealed record PriorPeriodUsage(DateTimeOffset PeriodStart, Plan Plan, IReadOnlyDictionary<string, long> Billed, IReadOnlyDictionary<string, long> Now);

/// <summary>
/// The arithmetic of an invoice, all in integer minor units. Plan fees: each UTC day of the period
/// is billed at one plan, the dearest (by the fee the invoice charges) of those in effect at any
/// moment of that day; one plan for every day bills its monthly fee; otherwise each run of
/// consecutive days of a plan is a proration line of <c>fee × days / daysInPeriod</c>, rounded
/// half-up to the paisa per line. Then, priced by the plan of the period's last day, each meter's
/// overage (every started block of <c>UnitSize</c> units beyond the included quantity is billed in
/// full); then late usage of earlier periods (the overage their usage costs now less what was billed
/// for it); then GST at 18% of the subtotal, rounded half-up once for the whole invoice. The lines
/// always sum to the total.
/// </summary>
public static class InvoiceCalculation
{
    public const int GstPercent = 18;

    /// <param name="chargePlanFee">False when a Razorpay subscription already collects the plan fee, so the invoice bills usage only.</param>
    public static InvoiceAmounts Calculate(Plan plan, IReadOnlyDictionary<string, long> usage, bool chargePlanFee = true)
    {
        var start = DateTimeOffset.UnixEpoch;
        return Calculate([new PlanInEffect(start, plan, chargePlanFee)], start, start.AddMonths(1), usage, []);
    }

    /// <param name="plans">The plans in effect during the period, oldest first; the first from the period's start.</param>
    public static InvoiceAmounts Calculate(
        IReadOnlyList<PlanInEffect> plans, DateTimeOffset periodStart, DateTimeOffset periodEnd, IReadOnlyDictionary<string, long> usage, IReadOnlyList<PriorPeriodUsage> prior)
    {
        var days = DaysByPlan(plans, periodStart, periodEnd);
        var pricing = days[^1].Plan.Plan;
        var lines = new List<InvoiceLine>(PlanFeeLines(days, periodStart, periodEnd));
        foreach (var (meter, price) in pricing.Meters.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            var used = Math.Max(0, usage.GetValueOrDefault(meter));
            var blocks = Blocks(used, price);
            if (blocks == 0)
            {
                continue;
            }

            var amount = checked(blocks * price.PricePerUnitBlockMinor);
            var description = string.Create(CultureInfo.InvariantCulture,
                $"{meter}: {used:N0} used, {price.IncludedQuantity:N0} included; {blocks:N0} × {price.UnitSize:N0} beyond");
            lines.Add(new InvoiceLine(InvoiceLineKind.Overage, description, blocks, price.PricePerUnitBlockMinor, amount, meter, used, price.IncludedQuantity, price.UnitSize));
        }

        lines.AddRange(prior.OrderBy(p => p.PeriodStart).SelectMany(PriorPeriodLines));

        var subtotal = lines.Sum(l => l.AmountMinor);
        var tax = Gst(subtotal);
        lines.Add(new InvoiceLine(InvoiceLineKind.Gst, $"GST @ {GstPercent}%", 1, tax, tax));
        return new InvoiceAmounts(pricing.Currency, lines, subtotal, tax, checked(subtotal + tax));
    }

    /// <summary>
    /// Which plan bills each UTC day of [<paramref name="periodStart"/>, <paramref name="periodEnd"/>),
    /// as runs of consecutive days: the dearest plan in effect at any moment of the day (the later one
    /// of equal fees), so holding a plan for part of a day costs that day.
    /// </summary>
    public static IReadOnlyList<PlanDays> DaysByPlan(IReadOnlyList<PlanInEffect> plans, DateTimeOffset periodStart, DateTimeOffset periodEnd)
    {
        if (plans.Count == 0 || plans[0].From > periodStart)
        {
            throw new ArgumentException("The plans must start with the one in effect at the period's start.", nameof(plans));
        }

        var daysInPeriod = DaysIn(periodStart, periodEnd);
        var runs = new List<PlanDays>();
        for (var day = 0; day < daysInPeriod; day++)
        {
            var (from, to) = (periodStart.AddDays(day), periodStart.AddDays(day + 1));
            PlanInEffect? billed = null;
            for (var i = 0; i < plans.Count; i++)
            {
                var end = i + 1 < plans.Count ? plans[i + 1].From : DateTimeOffset.MaxValue;
                var overlaps = plans[i].From < to && end > from && end > plans[i].From;
                if (overlaps && (billed is null || plans[i].DailyBasisMinor >= billed.DailyBasisMinor))
                {
                    billed = plans[i];
                }
            }

            if (runs.Count > 0 && runs[^1].Plan.Plan.Id == billed!.Plan.Id && runs[^1].Plan.ChargeFee == billed.ChargeFee)
            {
                runs[^1] = runs[^1] with { To = to, Days = runs[^1].Days + 1 };
            }
            else
            {
                runs.Add(new PlanDays(billed!, from, to, 1));
            }
        }

        return runs;
    }

    /// <summary>
    /// <paramref name="monthlyFeeMinor"/> × <paramref name="days"/> / <paramref name="daysInPeriod"/>,
    /// half a paisa and more rounding up: <c>(2 × fee × days + daysInPeriod) / (2 × daysInPeriod)</c>.
    /// </summary>
    public static long Prorate(long monthlyFeeMinor, int days, int daysInPeriod) =>
        checked((2 * monthlyFeeMinor * days + daysInPeriod) / (2L * daysInPeriod));

    public static int DaysIn(DateTimeOffset periodStart, DateTimeOffset periodEnd) => (int)Math.Round((periodEnd - periodStart).TotalDays);

    private static IEnumerable<InvoiceLine> PlanFeeLines(IReadOnlyList<PlanDays> runs, DateTimeOffset periodStart, DateTimeOffset periodEnd)
    {
        if (runs.Count == 1)
        {
            var plan = runs[0].Plan.Plan;
            if (runs[0].Plan.DailyBasisMinor > 0)
            {
                yield return new InvoiceLine(InvoiceLineKind.PlanFee, $"{plan.Name} plan, monthly fee", 1, plan.MonthlyFeeMinor, plan.MonthlyFeeMinor) { PlanId = plan.Id };
            }

            yield break;
        }

        var daysInPeriod = DaysIn(periodStart, periodEnd);
        foreach (var run in runs.Where(r => r.Plan.DailyBasisMinor > 0))
        {
            var plan = run.Plan.Plan;
            var amount = Prorate(plan.MonthlyFeeMinor, run.Days, daysInPeriod);
            var description = string.Create(CultureInfo.InvariantCulture,
                $"{plan.Name} plan, {run.From.UtcDateTime:d MMM} to {run.To.UtcDateTime.AddDays(-1):d MMM yyyy}: {run.Days} of {daysInPeriod} days of the monthly fee");
            yield return new InvoiceLine(InvoiceLineKind.Proration, description, run.Days, plan.MonthlyFeeMinor, amount)
            {
                PlanId = plan.Id,
                Days = run.Days,
                DaysInPeriod = daysInPeriod,
                From = run.From,
                To = run.To,
            };
        }
    }

    private static IEnumerable<InvoiceLine> PriorPeriodLines(PriorPeriodUsage prior)
    {
        foreach (var (meter, price) in prior.Plan.Meters.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            var billed = Math.Max(0, prior.Billed.GetValueOrDefault(meter));
            var now = Math.Max(0, prior.Now.GetValueOrDefault(meter));
            var blocks = Blocks(now, price) - Blocks(billed, price);
            if (blocks <= 0)
            {
                continue;
            }

            var description = string.Create(CultureInfo.InvariantCulture,
                $"{meter}, {prior.PeriodStart.UtcDateTime:MMM yyyy} (prior period, arrived after its invoice): {now:N0} used, {billed:N0} billed before; {blocks:N0} more × {price.UnitSize:N0}");
            yield return new InvoiceLine(InvoiceLineKind.PriorPeriodUsage, description, blocks, price.PricePerUnitBlockMinor, checked(blocks * price.PricePerUnitBlockMinor),
                meter, now, price.IncludedQuantity, price.UnitSize)
            {
                PlanId = prior.Plan.Id,
                From = prior.PeriodStart,
                BilledBefore = billed,
            };
        }
    }

    /// <summary>Started blocks of the plan's unit size beyond what the plan includes.</summary>
    public static long Blocks(long used, MeterPrice price)
    {
        var beyond = used - price.IncludedQuantity;
        if (beyond <= 0 || price.PricePerUnitBlockMinor <= 0)
        {
            return 0;
        }

        var unit = Math.Max(1, price.UnitSize);
        return beyond / unit + (beyond % unit == 0 ? 0 : 1);
    }

    /// <summary>18% of <paramref name="subtotalMinor"/>, half a paisa and more rounding up (e.g. 1,003 → 180.54 → 181).</summary>
    public static long Gst(long subtotalMinor) => checked((subtotalMinor * GstPercent + 50) / 100);
}
