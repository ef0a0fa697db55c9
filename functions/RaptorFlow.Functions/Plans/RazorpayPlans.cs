using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Razorpay;

namespace RaptorFlow.Functions.Plans;

/// <summary>
/// Finds or creates the Razorpay plan of a catalogue plan. A Razorpay plan charges the fee with its
/// GST (what an invoice would have charged for it), monthly. Razorpay plans cannot be deleted, so one
/// created twice by a race is left unused; only the first one remembered is ever used.
/// </summary>
public sealed class RazorpayPlans(StorageAccount storage, RazorpayClient razorpay, TimeProvider time)
{
    private TableClient Table => storage.Table(RazorpayPlanRow.TableName);

    /// <summary>What a Razorpay plan charges per month for <paramref name="plan"/>: its fee plus GST.</summary>
    public static long ChargeOf(Plan plan) => checked(plan.MonthlyFeeMinor + InvoiceCalculation.Gst(plan.MonthlyFeeMinor));

    /// <summary>The row key of a price: what a Razorpay plan charges and how often; any change makes a new one.</summary>
    public static string PriceVersion(Plan plan) => $"monthly-1-{plan.Currency}-{ChargeOf(plan)}";

    public async Task<string> GetOrCreateAsync(Plan plan, CancellationToken cancellationToken)
    {
        var version = PriceVersion(plan);
        if (await FindAsync(plan.Id, version, cancellationToken) is { } known)
        {
            return known;
        }

        var created = await razorpay.CreatePlanAsync(new CreatePlanRequest("monthly", 1,
            new RazorpayPlanItem(plan.Name, ChargeOf(plan), plan.Currency, $"{plan.Name} plan, monthly fee with GST @ {InvoiceCalculation.GstPercent}%"),
            new Dictionary<string, string> { ["plan_id"] = plan.Id, ["price_version"] = version }), cancellationToken);
        try
        {
            await Table.AddEntityAsync(new RazorpayPlanRow
            {
                PartitionKey = plan.Id,
                RowKey = version,
                RazorpayPlanId = created.Id,
                AmountMinor = ChargeOf(plan),
                Currency = plan.Currency,
                CreatedAt = time.GetUtcNow(),
            }, cancellationToken);
            return created.Id;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            // Another creator remembered its plan first: everyone uses that one.
            return await FindAsync(plan.Id, version, cancellationToken) ?? throw new InvalidOperationException($"The Razorpay plan of {plan.Id} {version} vanished.");
        }
    }

    /// <summary>The Razorpay plan remembered for this price of the catalogue plan, if any.</summary>
    private async Task<string?> FindAsync(string planId, string version, CancellationToken cancellationToken)
    {
        var found = await Table.GetEntityIfExistsAsync<RazorpayPlanRow>(planId, version, cancellationToken: cancellationToken);
        return found.HasValue ? found.Value!.RazorpayPlanId : null;
    }
}
