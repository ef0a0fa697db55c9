using System.Globalization;
using RaptorFlow.Functions.Plans;

namespace RaptorFlow.Functions.Invoices;

/// <summary>What a line bills.</summary>
public enum InvoiceLineKind
{
    PlanFee,
    Overage,
    Gst,
}

/// <summary>
/// One invoice line. For overage, <see cref="Quantity"/> is the number of started blocks of
/// <see cref="UnitSize"/> units beyond the included quantity and <see cref="UnitPriceMinor"/> the
/// price of one block; <see cref="Used"/> and <see cref="Included"/> say how it was derived.
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
    long? UnitSize = null);

public sealed record InvoiceAmounts(string Currency, IReadOnlyList<InvoiceLine> Lines, long SubtotalMinor, long TaxMinor, long TotalMinor);

/// <summary>
/// The arithmetic of an invoice, all in integer minor units: the plan's monthly fee, then for each
/// of the plan's meters the overage (every started block of <c>UnitSize</c> units beyond the
/// included quantity is billed in full), then GST at 18% of the subtotal, rounded half-up to the
/// paisa once for the whole invoice. Meters the plan does not price are not billed.
/// </summary>
public static class InvoiceCalculation
{
    public const int GstPercent = 18;

    /// <param name="chargePlanFee">False when a Razorpay subscription already collects the plan fee, so the invoice bills usage only.</param>
    public static InvoiceAmounts Calculate(Plan plan, IReadOnlyDictionary<string, long> usage, bool chargePlanFee = true)
    {
        var lines = new List<InvoiceLine>();
        if (chargePlanFee && plan.MonthlyFeeMinor > 0)
        {
            lines.Add(new InvoiceLine(InvoiceLineKind.PlanFee, $"{plan.Name} plan, monthly fee", 1, plan.MonthlyFeeMinor, plan.MonthlyFeeMinor));
        }

        foreach (var (meter, price) in plan.Meters.OrderBy(m => m.Key, StringComparer.Ordinal))
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

        var subtotal = lines.Sum(l => l.AmountMinor);
        var tax = Gst(subtotal);
        lines.Add(new InvoiceLine(InvoiceLineKind.Gst, $"GST @ {GstPercent}%", 1, tax, tax));
        return new InvoiceAmounts(plan.Currency, lines, subtotal, tax, checked(subtotal + tax));
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
