using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Razorpay;
using RaptorFlow.Tests.Usage;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;

namespace RaptorFlow.Tests.Invoices;

public sealed class GenerateInvoicesTests
{
    private static readonly DateTimeOffset MidOctober = new(2030, 10, 14, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset NovemberRun = new(2030, 11, 1, 0, 30, 0, TimeSpan.Zero);

    [Fact]
    public async Task Closing_a_month_issues_one_invoice_with_plan_fee_overage_and_gst_posted_to_the_ledger()
    {
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var (owner, orgId) = await world.NewOrgAsync("pro");
        world.Usage.Totals[orgId] = new() { ["api_calls"] = 1_234_567 };
        world.Clock.SetUtcNow(NovemberRun);

        var row = await world.CloseAsync(orgId);
        var invoice = await world.GetInvoiceAsync(owner, orgId, row.InvoiceId);

        Assert.Equal("issued", invoice.GetProperty("status").GetString());
        Assert.Equal($"{world.Series}/2030-31/000001", invoice.GetProperty("number").GetString());
        Assert.Equal("2030-10-01T00:00:00+00:00", invoice.GetProperty("periodStart").GetDateTimeOffset().ToString("yyyy-MM-ddTHH:mm:sszzz", null));
        Assert.Equal(new DateTimeOffset(2030, 11, 1, 0, 0, 0, TimeSpan.Zero), invoice.GetProperty("periodEnd").GetDateTimeOffset());
        var lines = invoice.GetProperty("lines").EnumerateArray().ToList();
        Assert.Equal(["plan_fee", "overage", "gst"], lines.Select(l => l.GetProperty("kind").GetString()));
        Assert.Equal(299_900, lines[0].GetProperty("amountMinor").GetInt64());
        Assert.Equal(24, lines[1].GetProperty("quantity").GetInt64()); // 234,567 beyond 1,000,000: 24 started blocks of 10,000
        Assert.Equal(120_000, lines[1].GetProperty("amountMinor").GetInt64());
        Assert.Equal(75_582, lines[2].GetProperty("amountMinor").GetInt64());
        Assert.Equal(419_900, invoice.GetProperty("subtotalMinor").GetInt64());
        Assert.Equal(75_582, invoice.GetProperty("taxMinor").GetInt64());
        Assert.Equal(495_482, invoice.GetProperty("totalMinor").GetInt64());
        Assert.Equal(495_482, invoice.GetProperty("amountDueMinor").GetInt64());
        Assert.Equal("INR", invoice.GetProperty("currency").GetString());
        Assert.Contains((orgId, new DateTimeOffset(2030, 10, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2030, 11, 1, 0, 0, 0, TimeSpan.Zero)), world.Usage.Asked);

        Assert.Equal(495_482, await world.App.BalanceAsync(orgId, Receivable));
        Assert.Equal(419_900, await world.App.BalanceAsync(orgId, Revenue));
        Assert.Equal(75_582, await world.App.BalanceAsync(orgId, GstPayable));
        await world.App.AssertLedgerIsConsistentAsync(orgId);

        var link = Assert.Single(world.LinkRequests());
        Assert.Equal(495_482, link.GetProperty("amount").GetInt64());
        Assert.Equal("INR", link.GetProperty("currency").GetString());
        Assert.Equal(orgId, link.GetProperty("notes").GetProperty("org_id").GetString());
        Assert.Equal(row.InvoiceId, link.GetProperty("notes").GetProperty("invoice_id").GetString());
        Assert.StartsWith("https://rzp.io/i/", invoice.GetProperty("paymentUrl").GetString());
    }

    [Theory]
    [InlineData(100, 1_003, 181, 1_184)] // 180.54 paise of GST rounds up
    [InlineData(332, 12_325, 2_219, 14_544)] // 2,218.50 paise: exactly half rounds up
    public async Task Totals_are_exact_in_paise_with_gst_rounded_half_up(long apiCalls, long subtotal, long tax, long total)
    {
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var (owner, orgId) = await world.NewOrgAsync(InvoiceWorld.OddPlan);
        world.Usage.Totals[orgId] = new() { ["api_calls"] = apiCalls };
        world.Clock.SetUtcNow(NovemberRun);

        var row = await world.CloseAsync(orgId);
        var invoice = await world.GetInvoiceAsync(owner, orgId, row.InvoiceId);

        Assert.Equal((subtotal, tax, total), (invoice.GetProperty("subtotalMinor").GetInt64(), invoice.GetProperty("taxMinor").GetInt64(), invoice.GetProperty("totalMinor").GetInt64()));
        Assert.Equal(total, invoice.GetProperty("lines").EnumerateArray().Sum(l => l.GetProperty("amountMinor").GetInt64()));
        Assert.Equal(total, await world.App.BalanceAsync(orgId, Receivable));
        Assert.Equal(tax, await world.App.BalanceAsync(orgId, GstPayable));
    }

    [Fact]
    public async Task A_zero_total_invoice_is_issued_and_posts_nothing()
    {
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var (owner, orgId) = await world.NewOrgAsync();
        world.Usage.Totals[orgId] = new() { ["api_calls"] = 9_999 };
        world.Clock.SetUtcNow(NovemberRun);

        var row = await world.CloseAsync(orgId);
        var invoice = await world.GetInvoiceAsync(owner, orgId, row.InvoiceId);

        Assert.Equal("issued", invoice.GetProperty("status").GetString());
        Assert.Equal(0, invoice.GetProperty("totalMinor").GetInt64());
        Assert.False(invoice.TryGetProperty("paymentUrl", out _)); // null values are omitted
        Assert.False(row.Pending);
        Assert.Null(await world.App.Services.GetRequiredService<PostingEngine>().FindTransactionIdAsync(orgId, InvoiceIssuer.PostingKey(row.InvoiceId), CancellationToken.None));
        Assert.Empty(world.LinkRequests());
    }

    [Fact]
    public async Task Rerunning_or_running_concurrently_never_issues_a_second_invoice_for_an_org_and_period()
    {
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var (owner, orgId) = await world.NewOrgAsync("pro");
        world.Clock.SetUtcNow(NovemberRun);

        var rows = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => world.CloseAsync(orgId))));
        world.Clock.Advance(TimeSpan.FromDays(1));
        var again = await world.CloseAsync(orgId);

        Assert.Single(rows.Select(r => r.InvoiceId).Append(again.InvoiceId).Distinct());
        owner = await world.AgainAsync(owner);
        using var list = await owner.Client.GetAsync(new Uri($"/api/v1/orgs/{orgId}/invoices", UriKind.Relative));
        var data = (await list.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data");
        Assert.Equal(1, data.GetArrayLength());
        Assert.Equal(353_882, await world.App.BalanceAsync(orgId, Receivable)); // posted once: 2,999 + 18% GST
        Assert.Single(world.LinkRequests(), l => l.GetProperty("notes").GetProperty("invoice_id").GetString() == again.InvoiceId);
        var taken = await world.App.Services.GetRequiredService<InvoiceNumbering>().TakenAsync(world.Series, "2030-31", CancellationToken.None);
        Assert.Equal(again.InvoiceId, Assert.Single(taken).InvoiceId);
    }

    [Fact]
    public async Task Numbers_have_no_gaps_and_no_repeats_when_runs_race()
    {
        // The earliest era of any test: the timer runs below bill only this test's orgs.
        await using var world = await InvoiceWorld.StartAsync(new DateTimeOffset(2024, 4, 10, 0, 0, 0, TimeSpan.Zero));
        var orgs = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            orgs.Add((await world.NewOrgAsync(i % 2 == 0 ? "pro" : null)).OrgId);
        }

        world.Clock.SetUtcNow(new DateTimeOffset(2024, 5, 1, 0, 30, 0, TimeSpan.Zero));
        var closes = orgs.SelectMany(o => Enumerable.Range(0, 3).Select(_ => Task.Run(() => world.CloseAsync(o))));
        var timers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            using var scope = world.App.Services.CreateScope();
            return (await scope.ServiceProvider.GetRequiredService<GenerateInvoices>().RunOnceAsync(CancellationToken.None)).Failed;
        }));
        await Task.WhenAll(closes);
        Assert.All(await Task.WhenAll(timers), failed => Assert.Equal(0, failed));
        await world.App.DrainQueueAsync(CloseOrgPeriod.FunctionName);

        // Every org in the store was closed by the timer runs, so the series' year holds all of them: 1..N, each once.
        var taken = await world.App.Services.GetRequiredService<InvoiceNumbering>().TakenAsync(world.Series, "2024-25", CancellationToken.None);
        Assert.Equal(Enumerable.Range(1, taken.Count).Select(n => (long)n), taken.Select(t => t.Sequence));
        Assert.Equal(taken.Count, taken.Select(t => t.InvoiceId).Distinct().Count());
        Assert.Equal(taken.Count, taken.Select(t => t.OrgId).Distinct().Count());
        var book = world.App.Services.GetRequiredService<InvoiceBook>();
        foreach (var (sequence, invoiceId, orgId) in taken)
        {
            var row = await book.FindAsync(orgId, invoiceId, CancellationToken.None);
            Assert.NotNull(row);
            Assert.Equal(InvoiceNumbering.Format(world.Series, "2024-25", sequence), row.Number);
        }

        Assert.All(orgs, o => Assert.Single(taken, t => t.OrgId == o));
    }

    [Fact]
    public async Task A_run_that_crashed_after_taking_a_number_is_finished_with_that_number()
    {
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var (_, crashed) = await world.NewOrgAsync("pro");
        var (_, next) = await world.NewOrgAsync("pro");
        world.Clock.SetUtcNow(NovemberRun);

        // What a run leaves when it dies between reserving the number and writing the invoice:
        // the period claim, the draft, and the number bound to the draft's id.
        var invoiceId = world.App.Services.GetRequiredService<RaptorFlow.Functions.Platform.Ids.IdGenerator>().New("bill");
        var periodStart = new DateTimeOffset(2030, 10, 1, 0, 0, 0, TimeSpan.Zero);
        var book = world.App.Services.GetRequiredService<InvoiceBook>();
        await book.Table.SubmitTransactionAsync(
        [
            new Azure.Data.Tables.TableTransactionAction(Azure.Data.Tables.TableTransactionActionType.Add,
                new PeriodRow { PartitionKey = crashed, RowKey = InvoiceKeys.Period(periodStart), InvoiceId = invoiceId, ClaimedAt = NovemberRun }),
            new Azure.Data.Tables.TableTransactionAction(Azure.Data.Tables.TableTransactionActionType.Add,
                new InvoiceRow { PartitionKey = crashed, RowKey = InvoiceKeys.Invoice(invoiceId), InvoiceId = invoiceId, PeriodStart = periodStart, PeriodEnd = periodStart.AddMonths(1), IssuedAt = NovemberRun }),
        ]);
        var numbering = world.App.Services.GetRequiredService<InvoiceNumbering>();
        var reserved = await numbering.NumberAsync(world.Series, "2030-31", invoiceId, crashed, CancellationToken.None);
        Assert.Null((await book.FindAsync(crashed, invoiceId, CancellationToken.None))!.Number);

        world.Clock.Advance(TimeSpan.FromDays(1));
        var finished = await world.CloseAsync(crashed);
        var after = await world.CloseAsync(next);

        Assert.Equal(invoiceId, finished.InvoiceId);
        Assert.Equal(reserved, finished.Number);
        Assert.Equal($"{world.Series}/2030-31/000001", finished.Number);
        Assert.Equal($"{world.Series}/2030-31/000002", after.Number);
        Assert.Equal(NovemberRun, finished.IssuedAt); // the claim's issue time, so the retry numbers in the same year
        Assert.Equal(353_882, await world.App.BalanceAsync(crashed, Receivable));
        Assert.Equal([1L, 2L], (await numbering.TakenAsync(world.Series, "2030-31", CancellationToken.None)).Select(t => t.Sequence));
    }

    [Fact]
    public async Task The_financial_year_of_a_number_is_decided_by_the_issue_date_in_IST()
    {
        await using var world = await InvoiceWorld.StartAsync(new DateTimeOffset(2027, 2, 10, 0, 0, 0, TimeSpan.Zero));
        var (_, early) = await world.NewOrgAsync("pro");
        var (_, late) = await world.NewOrgAsync("pro");

        world.Clock.SetUtcNow(new DateTimeOffset(2027, 3, 31, 18, 29, 59, TimeSpan.Zero)); // 23:59:59 IST on 31 March
        var february = await world.CloseAsync(early);
        world.Clock.SetUtcNow(new DateTimeOffset(2027, 3, 31, 19, 0, 0, TimeSpan.Zero)); // 00:30 IST on 1 April
        var februaryLate = await world.CloseAsync(late);
        world.Clock.SetUtcNow(new DateTimeOffset(2027, 3, 31, 23, 59, 59, TimeSpan.Zero));
        var stillFebruary = await world.CloseAsync(early);
        world.Clock.SetUtcNow(new DateTimeOffset(2027, 4, 1, 0, 0, 0, TimeSpan.Zero)); // March has closed
        var march = await world.CloseAsync(early);

        Assert.Equal(new DateTimeOffset(2027, 2, 1, 0, 0, 0, TimeSpan.Zero), february.PeriodStart);
        Assert.Equal($"{world.Series}/2026-27/000001", february.Number);
        Assert.Equal(new DateTimeOffset(2027, 2, 1, 0, 0, 0, TimeSpan.Zero), februaryLate.PeriodStart);
        Assert.Equal($"{world.Series}/2027-28/000001", februaryLate.Number);
        Assert.Equal(february.InvoiceId, stillFebruary.InvoiceId);
        Assert.Equal(new DateTimeOffset(2027, 3, 1, 0, 0, 0, TimeSpan.Zero), march.PeriodStart);
        Assert.Equal($"{world.Series}/2027-28/000002", march.Number);
    }

    [Fact]
    public async Task A_Razorpay_outage_delays_the_payment_link_never_the_invoice()
    {
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var (owner, orgId) = await world.NewOrgAsync("pro");
        world.Clock.SetUtcNow(NovemberRun);
        world.LinksFail();

        var first = await world.CloseAsync(orgId);
        var issued = await world.GetInvoiceAsync(owner, orgId, first.InvoiceId);
        Assert.Equal("issued", issued.GetProperty("status").GetString());
        Assert.False(issued.TryGetProperty("paymentUrl", out _)); // null values are omitted
        Assert.Equal(353_882, await world.App.BalanceAsync(orgId, Receivable));

        world.LinksSucceed();
        world.Clock.Advance(TimeSpan.FromDays(1));
        var second = await world.CloseAsync(orgId);

        Assert.Equal(first.InvoiceId, second.InvoiceId);
        Assert.Equal(first.Number, second.Number);
        Assert.False(second.Pending);
        Assert.Single(world.LinkRequests());
        Assert.StartsWith("https://rzp.io/i/", (await world.GetInvoiceAsync(owner, orgId, first.InvoiceId)).GetProperty("paymentUrl").GetString());
        Assert.Equal(353_882, await world.App.BalanceAsync(orgId, Receivable));
    }

    [Fact]
    public async Task The_daily_timer_is_declared_and_runs_through_the_host_envelope()
    {
        // An era no other test bills in: a run closes every org in the store created before the period ended.
        await using var world = await InvoiceWorld.StartAsync(new DateTimeOffset(2025, 1, 10, 0, 0, 0, TimeSpan.Zero));
        var (_, orgId) = await world.NewOrgAsync("pro");
        world.Clock.SetUtcNow(new DateTimeOffset(2025, 2, 1, 0, 30, 0, TimeSpan.Zero));

        var declaration = Assert.Single(world.App.Services.GetServices<FunctionDeclaration>(), d => d.Name == GenerateInvoices.FunctionName);
        Assert.Equal((FunctionTriggerKind.Timer, GenerateInvoices.Schedule), (declaration.Kind, declaration.Schedule));

        using var response = await world.App.InvokeAsync(GenerateInvoices.FunctionName, HostInvocations.TimerEnvelope());
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        await world.App.DrainQueueAsync(CloseOrgPeriod.FunctionName);

        var period = await world.App.Services.GetRequiredService<InvoiceBook>().FindPeriodAsync(orgId, new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero), CancellationToken.None);
        Assert.NotNull(period);
        Assert.Equal(IOptionsSeries(world), world.Series);
    }

    [Fact]
    public async Task A_plan_change_after_the_period_ends_does_not_change_what_the_period_bills()
    {
        await using var world = await InvoiceWorld.StartAsync(new DateTimeOffset(2030, 9, 20, 9, 0, 0, TimeSpan.Zero), realStores: true);
        var (owner, orgId) = await world.NewOrgAsync();
        await ChoosePlanAsync(world, owner, orgId, "pro");

        // Ten minutes after October closed, before the 00:30 run: an upgrade. Then that run fails, and
        // the next one, days later, closes October.
        world.Clock.SetUtcNow(new DateTimeOffset(2030, 11, 1, 0, 10, 0, TimeSpan.Zero));
        await ChoosePlanAsync(world, owner, orgId, "enterprise");
        world.Clock.SetUtcNow(new DateTimeOffset(2030, 11, 3, 0, 30, 0, TimeSpan.Zero));
        var october = await world.GetInvoiceAsync(owner, orgId, (await world.CloseAsync(orgId)).InvoiceId);

        Assert.Equal([("plan_fee", 299_900L), ("gst", 53_982L)], Lines(october));
        Assert.Equal("pro", october.GetProperty("planId").GetString());
        Assert.Equal(353_882, october.GetProperty("totalMinor").GetInt64());
        Assert.Equal(353_882, await world.App.BalanceAsync(orgId, Receivable));
    }

    [Fact]
    public async Task Plan_changes_during_the_period_are_billed_by_the_day_each_plan_held_as_proration_lines()
    {
        await using var world = await InvoiceWorld.StartAsync(new DateTimeOffset(2030, 9, 20, 9, 0, 0, TimeSpan.Zero), realStores: true);
        var (owner, orgId) = await world.NewOrgAsync();
        await ChoosePlanAsync(world, owner, orgId, "pro");
        world.Clock.SetUtcNow(new DateTimeOffset(2030, 10, 14, 10, 0, 0, TimeSpan.Zero));
        await ChoosePlanAsync(world, owner, orgId, "enterprise");
        world.Clock.SetUtcNow(new DateTimeOffset(2030, 10, 31, 23, 59, 0, TimeSpan.Zero));
        await ChoosePlanAsync(world, owner, orgId, "free"); // the dearer plan of a day bills that day

        world.Clock.SetUtcNow(NovemberRun);
        var invoice = await world.GetInvoiceAsync(owner, orgId, (await world.CloseAsync(orgId)).InvoiceId);

        // 1-13 Oct pro: 2,999 × 13/31 = 1,257.645…; 14-31 Oct enterprise: 24,999 × 18/31 = 14,515.548…; each rounded half-up.
        Assert.Equal([("proration", 125_765L), ("proration", 1_451_555L), ("gst", 283_918L)], Lines(invoice));
        var lines = invoice.GetProperty("lines");
        Assert.Equal(("pro", 13, 31), (lines[0].GetProperty("planId").GetString(), lines[0].GetProperty("days").GetInt32(), lines[0].GetProperty("daysInPeriod").GetInt32()));
        Assert.Equal(("enterprise", 18), (lines[1].GetProperty("planId").GetString(), lines[1].GetProperty("days").GetInt32()));
        Assert.Equal(new DateTimeOffset(2030, 10, 14, 0, 0, 0, TimeSpan.Zero), lines[1].GetProperty("from").GetDateTimeOffset());
        Assert.Equal((1_577_320L, 283_918L, 1_861_238L), (invoice.GetProperty("subtotalMinor").GetInt64(), invoice.GetProperty("taxMinor").GetInt64(), invoice.GetProperty("totalMinor").GetInt64()));
        Assert.Equal(1_861_238, await world.App.BalanceAsync(orgId, Receivable));
        Assert.Equal(283_918, await world.App.BalanceAsync(orgId, GstPayable));
    }

    [Fact]
    public async Task Usage_that_arrives_after_its_month_was_invoiced_is_billed_once_on_the_next_invoice()
    {
        // The odd plan: ₹10.03 a month, 100 api_calls included, then ₹3.33 per started block of 7.
        await using var world = await InvoiceWorld.StartAsync(new DateTimeOffset(2030, 9, 20, 9, 0, 0, TimeSpan.Zero), realStores: true);
        var (owner, orgId) = await world.NewOrgAsync();
        await ChoosePlanAsync(world, owner, orgId, InvoiceWorld.OddPlan);
        world.Clock.SetUtcNow(new DateTimeOffset(2030, 10, 20, 12, 0, 0, TimeSpan.Zero));
        await PostUsageAsync(world, owner, orgId, ("oct-1", world.Clock.GetUtcNow(), 150));
        await RollUpAsync(world);

        world.Clock.SetUtcNow(NovemberRun);
        var october = await world.CloseAsync(orgId);
        Assert.Equal([("plan_fee", 1_003L), ("overage", 2_664L), ("gst", 660L)], Lines(await world.GetInvoiceAsync(owner, orgId, october.InvoiceId))); // 50 beyond: 8 blocks

        // Days later, an October event arrives (20 more: 70 beyond, 10 blocks) with a November one.
        world.Clock.SetUtcNow(new DateTimeOffset(2030, 11, 5, 8, 0, 0, TimeSpan.Zero));
        await PostUsageAsync(world, owner, orgId, ("oct-late", new DateTimeOffset(2030, 10, 25, 8, 0, 0, TimeSpan.Zero), 20), ("nov-1", world.Clock.GetUtcNow(), 100));
        await RollUpAsync(world);
        await RollUpAsync(world);
        world.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(october.InvoiceId, (await world.CloseAsync(orgId)).InvoiceId); // re-running October bills nothing new
        Assert.Equal(october.TotalMinor, (await world.App.Services.GetRequiredService<InvoiceBook>().FindAsync(orgId, october.InvoiceId, CancellationToken.None))!.TotalMinor);

        world.Clock.SetUtcNow(new DateTimeOffset(2030, 12, 1, 0, 30, 0, TimeSpan.Zero));
        var november = await world.CloseAsync(orgId);
        var novemberLines = (await world.GetInvoiceAsync(owner, orgId, november.InvoiceId)).GetProperty("lines");
        Assert.Equal([("plan_fee", 1_003L), ("prior_period_usage", 666L), ("gst", 300L)], Lines(await world.GetInvoiceAsync(owner, orgId, november.InvoiceId)));
        Assert.Equal(("api_calls", 2L, 170L, 150L), (novemberLines[1].GetProperty("meter").GetString(), novemberLines[1].GetProperty("quantity").GetInt64(),
            novemberLines[1].GetProperty("used").GetInt64(), novemberLines[1].GetProperty("billedBefore").GetInt64()));
        Assert.Equal(new DateTimeOffset(2030, 10, 1, 0, 0, 0, TimeSpan.Zero), novemberLines[1].GetProperty("from").GetDateTimeOffset());

        // Still within 35 days of October's end: one more October event (177: 11 blocks) and a late November one (110: 2 blocks).
        world.Clock.SetUtcNow(new DateTimeOffset(2030, 12, 2, 9, 0, 0, TimeSpan.Zero));
        await PostUsageAsync(world, owner, orgId, ("oct-later", new DateTimeOffset(2030, 10, 31, 22, 0, 0, TimeSpan.Zero), 7), ("nov-late", new DateTimeOffset(2030, 11, 30, 22, 0, 0, TimeSpan.Zero), 10));
        await RollUpAsync(world);
        Assert.Equal(november.InvoiceId, (await world.CloseAsync(orgId)).InvoiceId);

        world.Clock.SetUtcNow(new DateTimeOffset(2031, 1, 1, 0, 30, 0, TimeSpan.Zero));
        var december = await world.CloseAsync(orgId);
        Assert.Equal([("plan_fee", 1_003L), ("prior_period_usage", 333L), ("prior_period_usage", 666L), ("gst", 360L)], Lines(await world.GetInvoiceAsync(owner, orgId, december.InvoiceId)));

        // Nothing left over: a run a month later bills no prior-period usage.
        world.Clock.SetUtcNow(new DateTimeOffset(2031, 2, 1, 0, 30, 0, TimeSpan.Zero));
        var january = await world.CloseAsync(orgId);
        Assert.Equal([("plan_fee", 1_003L), ("gst", 181L)], Lines(await world.GetInvoiceAsync(owner, orgId, january.InvoiceId)));

        // October's usage, 177 calls, is billed in all exactly once: 11 blocks.
        Assert.Equal(11 * 333, 2_664 + 666 + 333);
        Assert.Equal(october.TotalMinor + november.TotalMinor + december.TotalMinor + january.TotalMinor, await world.App.BalanceAsync(orgId, Receivable));
        await world.App.AssertLedgerIsConsistentAsync(orgId);
    }

    private static List<(string Kind, long Amount)> Lines(JsonElement invoice) =>
        [.. invoice.GetProperty("lines").EnumerateArray().Select(l => (l.GetProperty("kind").GetString()!, l.GetProperty("amountMinor").GetInt64()))];

    private static async Task ChoosePlanAsync(InvoiceWorld world, Fixtures.TestUser owner, string orgId, string planId)
    {
        owner = await world.AgainAsync(owner);
        using var response = await owner.Client.PostAsJsonAsync(new Uri($"/api/v1/orgs/{orgId}/subscription", UriKind.Relative), new { planId });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task PostUsageAsync(InvoiceWorld world, Fixtures.TestUser owner, string orgId, params (string Id, DateTimeOffset At, long Quantity)[] events)
    {
        owner = await world.AgainAsync(owner);
        var result = await owner.PostEventsAsync(orgId, [.. events.Select(e => Usage.UsageRequests.Event(e.Id + "-" + orgId, e.At, e.Quantity))]);
        Assert.Equal(events.Length, result.GetProperty("accepted").GetInt32());
    }

    private static async Task RollUpAsync(InvoiceWorld world)
    {
        using var scope = world.App.Services.CreateScope();
        await scope.ServiceProvider.GetRequiredService<Functions.Usage.RollupUsage>()
            .RunAsync(new TimerTriggerInfo(false, null, null, Guid.NewGuid().ToString()), CancellationToken.None);
        await world.App.DrainQueueAsync(Functions.Usage.RollupOrgUsage.FunctionName);
    }

    private static string IOptionsSeries(InvoiceWorld world) =>
        world.App.Services.GetRequiredService<IOptions<InvoiceSettings>>().Value.NumberSeries;
}
