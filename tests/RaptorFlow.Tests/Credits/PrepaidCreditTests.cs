using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;
using RaptorFlow.Functions.Credits;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Tests.Events;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Invoices;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;
using static RaptorFlow.Tests.Razorpay.RazorpayTestKit;

namespace RaptorFlow.Tests.Credits;

/// <summary>Prepaid credit: top-ups credit it, invoices draw on it first, voids give it back, nothing overdraws it.</summary>
public sealed class PrepaidCreditTests
{
    private static readonly DateTimeOffset MidOctober = new(2033, 10, 14, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset NovemberRun = new(2033, 11, 1, 0, 30, 0, TimeSpan.Zero);

    /// <summary>A Checkout top-up as the payments feature creates it: notes name the org and the purpose, no invoice.</summary>
    public static string TopUp(string paymentId, long amount, string orgId)
    {
        var payment = Payment(paymentId, amount, orgId);
        payment["notes"] = new JsonObject { ["org_id"] = orgId, ["purpose"] = "credit_topup" };
        return Event("payment.captured", ("payment", payment));
    }

    private static async Task<JsonElement> CreditsAsync(TestUser owner, string orgId, string query = "") =>
        await owner.Client.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/orgs/{orgId}/credits{query}", UriKind.Relative));

    [Fact]
    public async Task A_top_up_pays_the_next_invoice_at_issue_which_is_then_paid_without_a_payment_link()
    {
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var (owner, orgId) = await world.NewOrgAsync("pro");
        await world.App.DeliverAndProcessAsync(TopUp(NewId("pay"), 5_000_000, orgId), NewId("evt"));
        world.Clock.SetUtcNow(NovemberRun);
        var invoice = await world.CloseAsync(orgId);
        await world.CloseAsync(orgId); // a re-run changes nothing
        owner = await world.AgainAsync(owner);

        var shown = await world.GetInvoiceAsync(owner, orgId, invoice.InvoiceId);
        Assert.Equal("paid", shown.GetProperty("status").GetString());
        Assert.Equal(invoice.TotalMinor, shown.GetProperty("amountPaidMinor").GetInt64());
        var credit = Assert.Single(shown.GetProperty("lines").EnumerateArray(), l => l.GetProperty("kind").GetString() == "credit_applied");
        Assert.Equal(-invoice.TotalMinor, credit.GetProperty("amountMinor").GetInt64());
        Assert.Equal(invoice.TaxMinor, shown.GetProperty("taxMinor").GetInt64());
        Assert.Empty(world.LinkRequests());
        await world.App.SingleEventAsync(owner, orgId, EventTypes.InvoicePaid);

        Assert.Equal(0, await world.App.BalanceAsync(orgId, Receivable));
        Assert.Equal(5_000_000 - invoice.TotalMinor, await world.App.BalanceAsync(orgId, CustomerCredit));
        var credits = await CreditsAsync(owner, orgId);
        Assert.Equal(5_000_000 - invoice.TotalMinor, Assert.Single(credits.GetProperty("balances").EnumerateArray()).GetProperty("balanceMinor").GetInt64());
        Assert.Equal(2, credits.GetProperty("movements").GetArrayLength());

        var firstPage = await CreditsAsync(owner, orgId, "?limit=1");
        Assert.Equal(1, firstPage.GetProperty("movements").GetArrayLength());
        var next = await CreditsAsync(owner, orgId, "?limit=1&cursor=" + Uri.EscapeDataString(firstPage.GetProperty("nextCursor").GetString()!));
        Assert.NotEqual(firstPage.GetProperty("movements")[0].GetProperty("transactionId").GetString(), next.GetProperty("movements")[0].GetProperty("transactionId").GetString());

        using var html = await owner.Client.GetAsync(new Uri($"/api/v1/orgs/{orgId}/invoices/{invoice.InvoiceId}.html", UriKind.Relative));
        Assert.Contains("Prepaid credit applied", await html.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await world.App.AssertLedgerIsConsistentAsync(orgId);
    }

    [Fact]
    public async Task Credit_short_of_the_total_pays_part_and_the_link_asks_for_the_rest_and_a_void_gives_the_credit_back()
    {
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var (owner, orgId) = await world.NewOrgAsync("pro");
        await world.App.DeliverAndProcessAsync(TopUp(NewId("pay"), 30_000, orgId), NewId("evt"));
        world.Clock.SetUtcNow(NovemberRun);
        var invoice = await world.CloseAsync(orgId);
        owner = await world.AgainAsync(owner);

        var shown = await world.GetInvoiceAsync(owner, orgId, invoice.InvoiceId);
        Assert.Equal("issued", shown.GetProperty("status").GetString());
        Assert.Equal(30_000, shown.GetProperty("amountPaidMinor").GetInt64());
        Assert.Equal(invoice.TotalMinor - 30_000, Assert.Single(world.LinkRequests()).GetProperty("amount").GetInt64());
        Assert.Equal(0, await world.App.BalanceAsync(orgId, CustomerCredit));

        using var voided = await owner.Client.PostAsync(new Uri($"/api/v1/orgs/{orgId}/invoices/{invoice.InvoiceId}/void", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, voided.StatusCode);
        Assert.Equal(30_000, await world.App.BalanceAsync(orgId, CustomerCredit));
        Assert.Equal(0, await world.App.BalanceAsync(orgId, Receivable));
        Assert.Equal(0, await world.App.BalanceAsync(orgId, Revenue));
        await world.App.AssertLedgerIsConsistentAsync(orgId);
    }

    /// <summary>Drawings race from two engines (two instances): the guard is checked against the balance each read, under its ETag.</summary>
    [Fact]
    public async Task A_drawing_that_loses_its_key_to_a_concurrent_drawing_of_another_amount_answers_what_that_one_drew()
    {
        // Two deliveries of one refund processed at once: both find the key unposted, and the second
        // reads the balance after the first drew, so it decides another amount under the same key.
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var engine = world.App.Services.GetRequiredService<PostingEngine>();
        var credit = world.App.Services.GetRequiredService<PrepaidCredit>();
        var orgId = "org_" + IdGenerator.NewSortableId(DateTimeOffset.UtcNow);
        await engine.PostAsync(new PostingBatch(orgId, "fund", "Top-up", [PostingLine.Dr(RazorpayClearing, "INR", 5_000), PostingLine.Cr(CustomerCredit, "INR", 5_000)]), default);
        PostingBatch Refund(long amount, long drawn) => new(orgId, "refund:rfnd_race", "Refund",
            [.. new[] { PostingLine.Dr(CustomerCredit, "INR", drawn), PostingLine.Dr(Refunds, "INR", amount - drawn) }.Where(l => l.Debit > 0), PostingLine.Cr(RazorpayClearing, "INR", amount)]);

        var firstDecision = true;
        var drawing = await credit.DrawAsync(orgId, "refund:rfnd_race", "INR", 4_000, drawn =>
        {
            if (firstDecision)
            {
                // The other delivery posts first, having decided from a balance this one no longer sees.
                firstDecision = false;
                engine.PostAsync(Refund(4_000, 3_000) with { NotBelowZero = [CustomerCredit] }, default).GetAwaiter().GetResult();
            }

            return Refund(4_000, drawn);
        }, default);

        Assert.Equal(3_000, drawing.DrawnMinor);
        Assert.Equal(await engine.FindTransactionIdAsync(orgId, "refund:rfnd_race", default), drawing.TransactionId);
        Assert.Equal(2_000, await world.App.BalanceAsync(orgId, CustomerCredit));
        await world.App.AssertLedgerIsConsistentAsync(orgId);
    }

    [Fact]
    public async Task Racing_drawings_never_take_customer_credit_below_zero()
    {
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var storage = world.App.Services.GetRequiredService<StorageAccount>();
        var ids = world.App.Services.GetRequiredService<IdGenerator>();
        var engines = new[] { world.App.Services.GetRequiredService<PostingEngine>(), new PostingEngine(storage, ids, TimeProvider.System, NullLogger<PostingEngine>.Instance) };

        await Gen.Select(Gen.Long[1, 5_000], Gen.Long[1, 3_000].Array[2, 8]).SampleAsync(async sample =>
        {
            var (funded, wanted) = sample;
            var orgId = "org_" + IdGenerator.NewSortableId(DateTimeOffset.UtcNow);
            await engines[0].PostAsync(new PostingBatch(orgId, "fund", "Top-up", [PostingLine.Dr(RazorpayClearing, "INR", funded), PostingLine.Cr(CustomerCredit, "INR", funded)]), default);
            var drawings = await Task.WhenAll(wanted.Select((amount, i) => new PrepaidCredit(engines[i % 2]).DrawAsync(orgId, $"draw:{i}", "INR", amount,
                drawn => new PostingBatch(orgId, $"draw:{i}", "Refund", drawn == amount
                    ? [PostingLine.Dr(CustomerCredit, "INR", amount), PostingLine.Cr(RazorpayClearing, "INR", amount)]
                    : [.. drawn > 0 ? new[] { PostingLine.Dr(CustomerCredit, "INR", drawn) } : [], PostingLine.Dr(Refunds, "INR", amount - drawn), PostingLine.Cr(RazorpayClearing, "INR", amount)]), default)));
            var left = await engines[0].BalanceAsync(orgId, CustomerCredit, "INR", default);
            Assert.True(left >= 0, $"customer_credit {left}");
            Assert.Equal(funded - drawings.Sum(d => d.DrawnMinor), left);
            Assert.Equal(Math.Min(funded, wanted.Sum()), drawings.Sum(d => d.DrawnMinor));
            await world.App.AssertLedgerIsConsistentAsync(orgId);
        }, iter: 15, threads: 1);
    }
}
