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

    [Theory]
    [InlineData("2026-04-01T00:00:00+05:30", "2026-27")]
    [InlineData("2026-03-31T18:29:59Z", "2025-26")]
    [InlineData("2026-03-31T18:30:00Z", "2026-27")]
    [InlineData("2027-03-31T19:00:00Z", "2027-28")]
    [InlineData("2099-12-31T23:00:00Z", "2099-00")]
    public void The_financial_year_is_decided_by_the_date_in_IST(string at, string year) =>
        Assert.Equal(year, FinancialYear.Of(DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture)));
}
