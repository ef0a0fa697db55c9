using CsCheck;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Plans;

namespace RaptorFlow.Tests.Invoices;

public sealed class InvoiceCalculationTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 0)] // 0.18 paise rounds down
    [InlineData(25, 5)] // 4.5 paise: half rounds up
    [InlineData(1_003, 181)] // 180.54
    [InlineData(12_325, 2_219)] // 2,218.50
    [InlineData(419_900, 75_582)]
    public void Gst_is_18_percent_of_the_subtotal_rounded_half_up_to_the_paisa(long subtotal, long gst) =>
        Assert.Equal(gst, InvoiceCalculation.Gst(subtotal));

    [Theory]
    [InlineData(100, 0)]
    [InlineData(101, 1)]
    [InlineData(107, 1)]
    [InlineData(108, 2)]
    [InlineData(0, 0)]
    public void Overage_is_billed_per_started_block_beyond_the_included_quantity(long used, long blocks) =>
        Assert.Equal(blocks, InvoiceCalculation.Blocks(used, new MeterPrice(100, 7, 333)));

    [Fact]
    public void Lines_are_plan_fee_then_each_meter_with_overage_then_gst()
    {
        var plan = InvoiceWorld.Catalog().Get(InvoiceWorld.OddPlan);
        var amounts = InvoiceCalculation.Calculate(plan, new Dictionary<string, long> { ["api_calls"] = 332, ["storage_gb"] = 2, ["unpriced"] = 10 });

        Assert.Equal([InvoiceLineKind.PlanFee, InvoiceLineKind.Overage, InvoiceLineKind.Overage, InvoiceLineKind.Gst], amounts.Lines.Select(l => l.Kind));
        Assert.Equal(1_003, amounts.Lines[0].AmountMinor);
        Assert.Equal(("api_calls", 34L, 333L, 11_322L), (amounts.Lines[1].Meter, amounts.Lines[1].Quantity, amounts.Lines[1].UnitPriceMinor, amounts.Lines[1].AmountMinor));
        Assert.Equal(("storage_gb", 2L, 3_998L), (amounts.Lines[2].Meter, amounts.Lines[2].Quantity, amounts.Lines[2].AmountMinor));
        Assert.Equal(16_323, amounts.SubtotalMinor);
        Assert.Equal(2_938, amounts.TaxMinor); // 2,938.14
        Assert.Equal(19_261, amounts.TotalMinor);
        Assert.Equal(amounts.TotalMinor, amounts.Lines.Sum(l => l.AmountMinor));
    }

    [Fact]
    public void A_plan_fee_collected_by_a_Razorpay_subscription_is_not_billed_again()
    {
        var plan = InvoiceWorld.Catalog().Get("pro");
        var amounts = InvoiceCalculation.Calculate(plan, new Dictionary<string, long>(), chargePlanFee: false);

        Assert.Equal(0, amounts.TotalMinor);
        Assert.Equal([InvoiceLineKind.Gst], amounts.Lines.Select(l => l.Kind));
    }

    private static readonly Plan[] Plans =
    [
        .. InvoiceWorld.Catalog().All,
        new Plan("tiny", "Tiny", 1, "INR", new Dictionary<string, MeterPrice>(), 60),
        new Plan("prime", "Prime", 9_999_991, "INR", new Dictionary<string, MeterPrice>(), 60),
    ];

    /// <summary>
    /// A month from 2024 to 2035 and up to eight plan changes from ten days before it to ten days after
    /// it, to the second; a third of them on a midnight (the period's start and end among them), a third a second either side of one.
    /// </summary>
    private static readonly Gen<(DateTimeOffset Start, List<PlanChange> History)> Histories =
        Gen.Select(Gen.Int[2024, 2035], Gen.Int[1, 12], Gen.Select(Gen.Int[-10 * 86_400, 41 * 86_400], Gen.Int[0, Plans.Length - 1], Gen.Int[0, 4], Gen.Int[-1, 4]).List[0, 8])
            .Select((year, month, changes) =>
            {
                var start = new DateTimeOffset(year, month, 1, 0, 0, 0, TimeSpan.Zero);
                static int Snap(int seconds, int how) => how switch
                {
                    0 => (int)Math.Floor(seconds / 86_400.0) * 86_400,
                    -1 or 1 => ((int)Math.Floor(seconds / 86_400.0) * 86_400) + how,
                    _ => seconds,
                };
                var history = changes
                    .Select(c => new PlanChange(start.AddSeconds(Snap(c.Item1, c.Item4)), Plans[c.Item2].Id, FeeCollectedByRazorpay: c.Item3 == 0))
                    .GroupBy(c => c.EffectiveFrom).Select(g => g.Last()).OrderBy(c => c.EffectiveFrom).ToList();
                return (start, history);
            });

    private static List<PlanInEffect> InEffect(IReadOnlyList<PlanChange> history, DateTimeOffset start, DateTimeOffset end) =>
        [.. PlanHistory.During(history, "free", start, end).Select(c => new PlanInEffect(c.EffectiveFrom, Plans.Single(p => p.Id == c.PlanId), !c.FeeCollectedByRazorpay))];

    private static InvoiceAmounts Bill(IReadOnlyList<PlanChange> history, DateTimeOffset start, DateTimeOffset end) =>
        InvoiceCalculation.Calculate(InEffect(history, start, end), start, end, new Dictionary<string, long>(), []);

    private static long InvoiceFee(PlanChange change) => change.FeeCollectedByRazorpay ? 0 : Plans.Single(p => p.Id == change.PlanId).MonthlyFeeMinor;

    [Fact]
    public void Fee_lines_sum_to_each_days_plan_fee_over_the_days_in_the_period_within_half_a_paisa_a_line() =>
        Histories.Sample(h =>
        {
            var (start, end) = (h.Start, h.Start.AddMonths(1));
            var days = (int)(end - start).TotalDays;
            var amounts = Bill(h.History, start, end);
            var fees = amounts.Lines.Where(l => l.Kind is InvoiceLineKind.PlanFee or InvoiceLineKind.Proration).ToList();

            // The model: a day costs the dearest fee of the plans in effect at any moment of it (the default plan before the first change).
            var exactTimesTwoDays = 0L;
            for (var d = 0; d < days; d++)
            {
                var (from, to) = (start.AddDays(d), start.AddDays(d + 1));
                var held = h.History.Where(c => c.EffectiveFrom > from && c.EffectiveFrom < to)
                    .Append(h.History.LastOrDefault(c => c.EffectiveFrom <= from) ?? new PlanChange(from, "free", false));
                exactTimesTwoDays += 2 * held.Max(InvoiceFee);
            }

            Assert.All(amounts.Lines, l => Assert.True(l.AmountMinor >= 0));
            Assert.True(Math.Abs(2L * days * fees.Sum(l => l.AmountMinor) - exactTimesTwoDays) <= (long)days * fees.Count,
                $"{fees.Sum(l => l.AmountMinor)} vs {exactTimesTwoDays / 2.0 / days} over {fees.Count} lines");
            Assert.Equal(amounts.TotalMinor, amounts.Lines.Sum(l => l.AmountMinor));
            Assert.Equal(amounts.SubtotalMinor + InvoiceCalculation.Gst(amounts.SubtotalMinor), amounts.TotalMinor);
            Assert.All(fees.Where(l => l.Kind == InvoiceLineKind.Proration), l => Assert.Equal(days, l.DaysInPeriod));
            Assert.Equal(days, InvoiceCalculation.DaysByPlan(InEffect(h.History, start, end), start, end).Sum(r => r.Days));
        }, iter: 2_000);

    [Fact]
    public void A_period_without_a_change_bills_exactly_the_plan_fee_and_changes_after_it_ends_change_nothing() =>
        Histories.Sample(h =>
        {
            var (start, end) = (h.Start, h.Start.AddMonths(1));
            var before = h.History.Where(c => c.EffectiveFrom <= start).ToList();
            var after = h.History.Where(c => c.EffectiveFrom >= end).ToList();
            var inEffect = before.LastOrDefault() ?? new PlanChange(start, "free", false);

            var quiet = Bill([.. before, .. after], start, end);
            var fee = InvoiceFee(inEffect);
            Assert.Equal(fee, quiet.SubtotalMinor);
            Assert.Equal(fee == 0 ? [] : [InvoiceLineKind.PlanFee], quiet.Lines.Where(l => l.Kind != InvoiceLineKind.Gst).Select(l => l.Kind));

            var upToEnd = h.History.Where(c => c.EffectiveFrom < end).ToList();
            Assert.Equal(Bill(upToEnd, start, end).Lines, Bill(h.History, start, end).Lines);
        }, iter: 2_000);

    [Fact]
    public void Late_usage_of_an_earlier_period_bills_the_blocks_it_adds_and_never_a_credit()
    {
        var plan = InvoiceWorld.Catalog().Get(InvoiceWorld.OddPlan);
        var october = new DateTimeOffset(2030, 10, 1, 0, 0, 0, TimeSpan.Zero);
        var prior = new PriorPeriodUsage(october, plan, new Dictionary<string, long> { ["api_calls"] = 150, ["storage_gb"] = 3 }, new Dictionary<string, long> { ["api_calls"] = 170, ["storage_gb"] = 3 });
        var amounts = InvoiceCalculation.Calculate([new PlanInEffect(october.AddMonths(1), plan)], october.AddMonths(1), october.AddMonths(2), new Dictionary<string, long>(), [prior]);

        var late = Assert.Single(amounts.Lines, l => l.Kind == InvoiceLineKind.PriorPeriodUsage);
        Assert.Equal(("api_calls", 2L, 333L, 666L, 170L, 150L, october), (late.Meter, late.Quantity, late.UnitPriceMinor, late.AmountMinor, late.Used, late.BilledBefore, late.From));

        var shrunk = prior with { Now = new Dictionary<string, long> { ["api_calls"] = 100 } };
        Assert.DoesNotContain(InvoiceCalculation.Calculate([new PlanInEffect(october.AddMonths(1), plan)], october.AddMonths(1), october.AddMonths(2), new Dictionary<string, long>(), [shrunk]).Lines,
            l => l.Kind == InvoiceLineKind.PriorPeriodUsage);
    }

    [Theory]
    [InlineData("2026-04-01T00:00:00+05:30", "2026-27")]
    [InlineData("2026-03-31T18:29:59Z", "2025-26")]
    [InlineData("2026-03-31T18:30:00Z", "2026-27")]
    [InlineData("2027-03-31T19:00:00Z", "2027-28")]
    [InlineData("2099-12-31T23:00:00Z", "2099-00")]
    public void The_financial_year_is_decided_by_the_date_in_IST(string at, string year) =>
        Assert.Equal(year, FinancialYear.Of(DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture)));
}
