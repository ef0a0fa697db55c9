using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Functions.Usage;
using RaptorFlow.Tests.ApiKeys;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Razorpay;
using RaptorFlow.Tests.Usage;
using WireMock.Server;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;
using static RaptorFlow.Tests.Usage.UsageRequests;

namespace RaptorFlow.Tests.Invoices;

/// <summary>
/// Usage to paid invoice on the real pieces only: the app's own subscriptions, usage store,
/// API-key meter, rollup, invoice issuer, ledger and webhook inbox, with the timers and the queue
/// function invoked as the Functions host invokes them. Only Razorpay's REST API is faked.
/// </summary>
public sealed class BillingEndToEndTests
{
    // An era no other test bills: GenerateInvoices closes every org created before the period ended.
    private static readonly DateTimeOffset February10 = new(2023, 2, 10, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset March1 = new(2023, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset April1 = new(2023, 4, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Usage_is_rolled_up_invoiced_posted_linked_and_paid_and_the_financial_year_turns_on_1_April_IST()
    {
        // The org starts on the plan at the first instant of February, so February bills its whole fee (a plan
        // held for part of a month is prorated). Created in February, it enters February's billing index partition
        // itself: a January org would reach February only through January's close, which this test never runs.
        await using var billing = await Billing.StartAsync(March1.AddMonths(-1));
        var (owner, orgId) = await billing.App.NewOrgAsync();
        await billing.ChoosePlanAsync(owner, orgId, Billing.Plan);
        billing.Clock.SetUtcNow(February10);
        owner = await billing.App.SignInAsync(owner.Id);
        var key = await owner.CreateKeyAsync(orgId, "org:read", "usage:write");
        using var machine = billing.App.KeyClient(key.Secret);

        // February. Every request made with the key counts one api_call; the events are on `exports`.
        var first = await PostAsync(machine, orgId,
            Event("exp-1", February10.AddMinutes(-45), 40, "exports"),
            Event("exp-2", February10.AddMinutes(-1), 35, "exports"),
            Event("exp-3", new DateTimeOffset(2023, 2, 3, 12, 0, 0, TimeSpan.Zero), 1, "exports"),
            Event("exp-old", February10.AddDays(-36), 1000, "exports"));
        Assert.Equal((3, 0, 1), Counts(first));
        Assert.Equal("timestamp.too_old", first.GetProperty("results")[3].GetProperty("reason").GetString());
        await billing.CallApiAsync(machine, orgId, times: 25);
        await billing.FlushMeterAsync();
        await billing.InvokeTimerAsync(RollupUsage.FunctionName);

        // The month's last minutes: a replayed id, and a late event dated into an hour already rolled up.
        billing.Clock.SetUtcNow(March1.AddMinutes(-10));
        var second = await PostAsync(machine, orgId,
            Event("exp-2", February10.AddMinutes(-1), 35, "exports"),
            Event("exp-4", February10.AddMinutes(-30), 30, "exports"),
            Event("exp-5", March1.AddMinutes(-11), 20, "exports"));
        Assert.Equal((2, 1, 0), Counts(second));
        Assert.Equal("duplicate", second.GetProperty("results")[0].GetProperty("status").GetString());
        await billing.CallApiAsync(machine, orgId, times: 10);
        await billing.FlushMeterAsync();

        // Just after midnight UTC: an event dated before midnight still belongs to February.
        billing.Clock.SetUtcNow(March1.AddMinutes(10));
        var third = await PostAsync(machine, orgId,
            Event("exp-6", March1.AddSeconds(-30), 4, "exports"),
            Event("exp-7", March1.AddMinutes(5), 1000, "exports"));
        Assert.Equal((2, 0, 0), Counts(third));
        await billing.FlushMeterAsync();
        await billing.InvokeTimerAsync(RollupUsage.FunctionName);

        // February so far: exports 40 + 35 + 1 + 30 + 20 + 4; api_calls: 2 posts and 35 reads with the key.
        owner = await billing.App.SignInAsync(owner.Id);
        var month = await owner.GetUsageAsync(orgId, $"granularity=month&from={Iso(March1.AddMonths(-1))}&to={Iso(March1)}");
        Assert.Equal([(March1.AddMonths(-1), 130L)], month.Points("exports"));
        Assert.Equal([(March1.AddMonths(-1), 37L)], month.Points(Meters.ApiCalls));
        var days = await owner.GetUsageAsync(orgId, $"granularity=day&from={Iso(March1.AddMonths(-1))}&to={Iso(March1.AddDays(1))}");
        Assert.Equal(
            [(new DateTimeOffset(2023, 2, 3, 0, 0, 0, TimeSpan.Zero), 1L), (February10.AddHours(-9), 105L), (March1.AddDays(-1), 24L), (March1, 1000L)],
            days.Points("exports"));
        Assert.Equal([(February10.AddHours(-9), 26L), (March1.AddDays(-1), 11L), (March1, 1L)], days.Points(Meters.ApiCalls));

        // At 00:20 a late batch still carries a February event. No RollupUsage runs before the invoice,
        // which must bill it all the same.
        billing.Clock.SetUtcNow(March1.AddMinutes(20));
        Assert.Equal((1, 0, 0), Counts(await PostAsync(machine, orgId, Event("exp-late", March1.AddMinutes(-2), 6, "exports"))));
        billing.Clock.SetUtcNow(March1.AddMinutes(30));
        await billing.InvokeTimerAsync(GenerateInvoices.FunctionName);

        // ₹1,499 fee; api_calls 37 − 20 included = 17 → 2 blocks of 10 at ₹2.50; exports 136 − 100 = 36 at ₹1.17;
        // GST 18% of 154,612 paise = 27,830.16 → 27,830.
        owner = await billing.App.SignInAsync(owner.Id);
        var invoices = await billing.InvoicesAsync(owner, orgId);
        var invoice = Assert.Single(invoices);
        var invoiceId = invoice.GetProperty("id").GetString()!;
        Assert.Equal($"{billing.Series}/2022-23/000001", invoice.GetProperty("number").GetString());
        Assert.Equal("issued", invoice.GetProperty("status").GetString());
        Assert.Equal(March1.AddMonths(-1), invoice.GetProperty("periodStart").GetDateTimeOffset());
        Assert.Equal(March1, invoice.GetProperty("periodEnd").GetDateTimeOffset());
        Assert.Equal(
            [
                ("plan_fee", null, 1L, 149_900L, 149_900L),
                ("overage", Meters.ApiCalls, 2L, 250L, 500L),
                ("overage", "exports", 36L, 117L, 4_212L),
                ("gst", null, 1L, 27_830L, 27_830L),
            ],
            Lines(invoice));
        var (exportsLine, apiLine) = (invoice.GetProperty("lines")[2], invoice.GetProperty("lines")[1]);
        Assert.Equal((136L, 100L), (exportsLine.GetProperty("used").GetInt64(), exportsLine.GetProperty("included").GetInt64()));
        Assert.Equal((37L, 20L, 10L), (apiLine.GetProperty("used").GetInt64(), apiLine.GetProperty("included").GetInt64(), apiLine.GetProperty("unitSize").GetInt64()));
        Assert.Equal((154_612L, 27_830L, 182_442L, 182_442L), Totals(invoice));

        Assert.Equal(182_442, await billing.App.BalanceAsync(orgId, Receivable));
        Assert.Equal(154_612, await billing.App.BalanceAsync(orgId, Revenue));
        Assert.Equal(27_830, await billing.App.BalanceAsync(orgId, GstPayable));
        await billing.App.AssertLedgerIsConsistentAsync(orgId);

        var link = Assert.Single(billing.LinkRequests());
        Assert.Equal(182_442, link.GetProperty("amount").GetInt64());
        Assert.Equal("INR", link.GetProperty("currency").GetString());
        Assert.Equal(orgId, link.GetProperty("notes").GetProperty("org_id").GetString());
        Assert.Equal(invoiceId, link.GetProperty("notes").GetProperty("invoice_id").GetString());
        Assert.StartsWith("https://rzp.io/i/", invoice.GetProperty("paymentUrl").GetString());

        // The customer pays the link: Razorpay posts a signed payment.captured, the queue function posts it.
        var paymentId = RazorpayTestKit.NewId("pay");
        await billing.DeliverAndProcessAsync(RazorpayTestKit.Captured(paymentId, 182_442, orgId, invoiceId: invoiceId), "evt_" + paymentId);

        var paid = await billing.InvoiceAsync(owner, orgId, invoiceId);
        Assert.Equal("paid", paid.GetProperty("status").GetString());
        Assert.Equal((182_442L, 0L), (paid.GetProperty("amountPaidMinor").GetInt64(), paid.GetProperty("amountDueMinor").GetInt64()));
        Assert.Equal(0, await billing.App.BalanceAsync(orgId, Receivable));
        Assert.Equal(182_442, await billing.App.BalanceAsync(orgId, RazorpayClearing));
        Assert.Equal(0, await billing.App.BalanceAsync(orgId, CustomerCredit));
        await billing.App.AssertLedgerIsConsistentAsync(orgId);

        // The invoice rolled the late event up: February's usage now shows it.
        var february = await owner.GetUsageAsync(orgId, $"granularity=month&from={Iso(March1.AddMonths(-1))}&to={Iso(March1)}");
        Assert.Equal([(March1.AddMonths(-1), 136L)], february.Points("exports"));

        // Both timers again, the same night and the next: nothing changes.
        var ledgerBefore = await billing.LedgerAsync(orgId);
        await billing.InvokeTimerAsync(RollupUsage.FunctionName);
        await billing.InvokeTimerAsync(GenerateInvoices.FunctionName);
        billing.Clock.SetUtcNow(March1.AddDays(1).AddMinutes(30));
        await billing.InvokeTimerAsync(RollupUsage.FunctionName);
        await billing.InvokeTimerAsync(GenerateInvoices.FunctionName);
        owner = await billing.App.SignInAsync(owner.Id);
        Assert.Equal(paid.ToString(), (await billing.InvoiceAsync(owner, orgId, invoiceId)).ToString());
        Assert.Single(await billing.InvoicesAsync(owner, orgId));
        Assert.Equal(ledgerBefore, await billing.LedgerAsync(orgId));
        Assert.Single(billing.LinkRequests());
        var again = await owner.GetUsageAsync(orgId, $"granularity=month&from={Iso(March1.AddMonths(-1))}&to={Iso(March1)}");
        Assert.Equal(february.GetProperty("data").ToString(), again.GetProperty("data").ToString());

        // March ends at midnight UTC, which is 05:30 on 1 April in IST: the invoice is issued in the new
        // financial year and opens its numbering. An event at 00:10 IST on 1 April is still March (UTC).
        billing.Clock.SetUtcNow(new DateTimeOffset(2023, 3, 31, 18, 25, 0, TimeSpan.Zero));
        var fourth = await PostAsync(machine, orgId,
            Event("exp-8", new DateTimeOffset(2023, 3, 31, 18, 20, 0, TimeSpan.Zero), 5, "exports"));
        billing.Clock.SetUtcNow(new DateTimeOffset(2023, 3, 31, 18, 45, 0, TimeSpan.Zero));
        var fifth = await PostAsync(machine, orgId,
            Event("exp-9", new DateTimeOffset(2023, 3, 31, 18, 40, 0, TimeSpan.Zero), 7, "exports"));
        billing.Clock.SetUtcNow(April1.AddMinutes(10));
        var sixth = await PostAsync(machine, orgId,
            Event("exp-10", April1.AddMinutes(5), 9, "exports"),
            Event("exp-7", March1.AddMinutes(5), 1000, "exports"));
        Assert.Equal((1, 0, 0), Counts(fourth));
        Assert.Equal((1, 0, 0), Counts(fifth));
        Assert.Equal((1, 1, 0), Counts(sixth));
        await billing.FlushMeterAsync();
        await billing.InvokeTimerAsync(RollupUsage.FunctionName);
        billing.Clock.SetUtcNow(April1.AddMinutes(30));
        await billing.InvokeTimerAsync(GenerateInvoices.FunctionName);

        // March: exports 1000 + 5 + 7 = 1,012 → 912 × ₹1.17; api_calls 4 posts, within the 20 included.
        // GST 18% of 256,604 = 46,188.72 → 46,189.
        owner = await billing.App.SignInAsync(owner.Id);
        var march = Assert.Single(await billing.InvoicesAsync(owner, orgId), i => i.GetProperty("id").GetString() != invoiceId);
        Assert.Equal($"{billing.Series}/2023-24/000001", march.GetProperty("number").GetString());
        Assert.Equal("2023-24", march.GetProperty("financialYear").GetString());
        Assert.Equal(March1, march.GetProperty("periodStart").GetDateTimeOffset());
        Assert.Equal(
            [
                ("plan_fee", null, 1L, 149_900L, 149_900L),
                ("overage", "exports", 912L, 117L, 106_704L),
                ("gst", null, 1L, 46_189L, 46_189L),
            ],
            Lines(march));
        Assert.Equal((256_604L, 46_189L, 302_793L, 302_793L), Totals(march));
        Assert.Equal(302_793, await billing.App.BalanceAsync(orgId, Receivable));
        Assert.Equal(154_612 + 256_604, await billing.App.BalanceAsync(orgId, Revenue));
        Assert.Equal(27_830 + 46_189, await billing.App.BalanceAsync(orgId, GstPayable));
        await billing.App.AssertLedgerIsConsistentAsync(orgId);
        Assert.Equal([182_442L, 302_793L], billing.LinkRequests().Select(l => l.GetProperty("amount").GetInt64()));
        var usage = await owner.GetUsageAsync(orgId, $"granularity=month&from={Iso(March1)}&to={Iso(April1.AddMonths(1))}");
        Assert.Equal([(March1, 1012L), (April1, 9L)], usage.Points("exports"));
        Assert.Equal([(March1, 4L), (April1, 1L)], usage.Points(Meters.ApiCalls));
    }

    private static async Task<JsonElement> PostAsync(HttpClient machine, string orgId, params object[] events)
    {
        using var response = await machine.PostAsJsonAsync(new Uri($"/api/v1/orgs/{orgId}/usage-events", UriKind.Relative), new { events });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement;
    }

    private static (int Accepted, int Duplicates, int Rejected) Counts(JsonElement result) =>
        (result.GetProperty("accepted").GetInt32(), result.GetProperty("duplicates").GetInt32(), result.GetProperty("rejected").GetInt32());

    private static List<(string? Kind, string? Meter, long Quantity, long UnitPrice, long Amount)> Lines(JsonElement invoice) =>
        [.. invoice.GetProperty("lines").EnumerateArray().Select(l => (
            l.GetProperty("kind").GetString(),
            l.TryGetProperty("meter", out var meter) ? meter.GetString() : null,
            l.GetProperty("quantity").GetInt64(),
            l.GetProperty("unitPriceMinor").GetInt64(),
            l.GetProperty("amountMinor").GetInt64()))];

    private static (long Subtotal, long Tax, long Total, long Due) Totals(JsonElement invoice) =>
        (invoice.GetProperty("subtotalMinor").GetInt64(), invoice.GetProperty("taxMinor").GetInt64(),
            invoice.GetProperty("totalMinor").GetInt64(), invoice.GetProperty("amountDueMinor").GetInt64());

    /// <summary>
    /// The app as deployed, on a fake clock, with its own number series and events queue, its
    /// triggers off (the test fires them), a plan configured the way ops configure one, and
    /// Razorpay's REST API on WireMock.
    /// </summary>
    private sealed class Billing : IAsyncDisposable
    {
        public const string Plan = "metered";

        private static readonly DateTimeOffset EraEnd = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

        private readonly string _queue;

        private Billing(TestApp app, FakeTimeProvider clock, WireMockServer razorpay, string series, string queue)
        {
            App = app;
            Clock = clock;
            Razorpay = razorpay;
            Series = series;
            _queue = queue;
        }

        public TestApp App { get; }
        public FakeTimeProvider Clock { get; }
        public WireMockServer Razorpay { get; }
        public string Series { get; }

        public static async Task<Billing> StartAsync(DateTimeOffset now)
        {
            var clock = new FakeTimeProvider(now);
            var razorpay = WireMockServer.Start();
            RazorpayPaymentLinks.Succeed(razorpay);
            var series = InvoiceWorld.NewSeries('E');
            var queue = "rzp-" + Guid.NewGuid().ToString("N")[..20];
            var plan = $"Plans:Catalog:{Plan}";
            var settings = ApiKeyTestKit.Settings(RazorpayTestKit.Settings(queue));
            settings["Invoices:NumberSeries"] = series;
            settings[$"{plan}:Name"] = "Metered";
            settings[$"{plan}:MonthlyFeeMinor"] = "149900";
            settings[$"{plan}:Currency"] = "INR";
            settings[$"{plan}:ApiRateLimitPerMinute"] = "600";
            settings[$"{plan}:Meters:{Meters.ApiCalls}:IncludedQuantity"] = "20";
            settings[$"{plan}:Meters:{Meters.ApiCalls}:UnitSize"] = "10";
            settings[$"{plan}:Meters:{Meters.ApiCalls}:PricePerUnitBlockMinor"] = "250";
            settings[$"{plan}:Meters:exports:IncludedQuantity"] = "100";
            settings[$"{plan}:Meters:exports:UnitSize"] = "1";
            settings[$"{plan}:Meters:exports:PricePerUnitBlockMinor"] = "117";

            var app = await TestApp.StartAsync(settings, clock: clock, hostDrivesTriggers: true, razorpay: razorpay);
            return new Billing(app, clock, razorpay, series, queue);
        }

        public async Task ChoosePlanAsync(TestUser owner, string orgId, string planId)
        {
            using var response = await owner.Client.PostAsJsonAsync(new Uri($"/api/v1/orgs/{orgId}/subscription", UriKind.Relative), new { planId });
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            Assert.Equal("invoice", JsonDocument.Parse(body).RootElement.GetProperty("feeCollectedBy").GetString());
        }

        public async Task CallApiAsync(HttpClient machine, string orgId, int times)
        {
            for (var i = 0; i < times; i++)
            {
                using var response = await machine.GetAsync(new Uri($"/api/v1/orgs/{orgId}", UriKind.Relative));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }

        /// <summary>What the meter's background flusher does on its interval: store what was counted.</summary>
        public Task FlushMeterAsync() =>
            App.Services.GetRequiredService<BufferedUsageMeter>().FlushAsync(App.Services.GetRequiredService<UsageStore>(), CancellationToken.None);

        /// <summary>A timer invocation exactly as the Functions host sends it.</summary>
        public async Task InvokeTimerAsync(string function)
        {
            var now = Clock.GetUtcNow();
            var envelope = HostInvocations.TimerEnvelope(
                scheduleStatus: new { Last = now.AddHours(-1), Next = now.AddHours(1), LastUpdated = now },
                metadata: new { sys = new { MethodName = function, UtcNow = now } });
            await InvokeAsync(function, envelope);

            // The timers only enqueue; the host then delivers each message to the queue function.
            if (function == GenerateInvoices.FunctionName)
            {
                await App.DrainQueueAsync(CloseOrgPeriod.FunctionName);
            }
            else if (function == RollupUsage.FunctionName)
            {
                await App.DrainQueueAsync(RollupOrgUsage.FunctionName);
            }
        }

        /// <summary>Delivers a signed webhook, then hands the queue message it enqueued to ProcessRazorpayEvent as the host does.</summary>
        public async Task DeliverAndProcessAsync(string body, string eventId)
        {
            using (var delivered = await App.DeliverAsync(body, eventId))
            {
                Assert.Equal(HttpStatusCode.OK, delivered.StatusCode);
            }

            var queue = App.Storage.Queue(_queue);
            var message = Assert.Single((await queue.ReceiveMessagesAsync(32)).Value);
            var envelope = HostInvocations.QueueEnvelope(
                message.MessageText, // the host hands the text over as a JSON string
                new { message.DequeueCount, Id = message.MessageId, InsertionTime = message.InsertedOn, ExpirationTime = message.ExpiresOn, message.PopReceipt });
            await InvokeAsync(ProcessRazorpayEvent.FunctionName, envelope);
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            Assert.Equal(InboxStatus.Processed, (await App.InboxAsync(eventId))!.Status);
        }

        private async Task InvokeAsync(string function, string envelope)
        {
            using var response = await App.InvokeAsync(function, envelope);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{function}: {body}");
            Assert.Equal(FunctionInvocationApi.SuccessBody, body);
        }

        /// <summary>
        /// The org's invoices for periods of this test's era. Other tests' apps run GenerateInvoices over
        /// every org in the shared storage when their clocks pass 00:30, and bill later months of their own.
        /// </summary>
        public async Task<List<JsonElement>> InvoicesAsync(TestUser owner, string orgId)
        {
            var page = await owner.Client.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/orgs/{orgId}/invoices?limit=100", UriKind.Relative));
            return [.. page.GetProperty("data").EnumerateArray().Where(i => i.GetProperty("periodStart").GetDateTimeOffset() < EraEnd)];
        }

        public Task<JsonElement> InvoiceAsync(TestUser owner, string orgId, string invoiceId) =>
            owner.Client.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/orgs/{orgId}/invoices/{invoiceId}", UriKind.Relative));

        public IReadOnlyList<JsonElement> LinkRequests() => RazorpayPaymentLinks.Requests(Razorpay);

        /// <summary>Every transaction and account balance of the org's ledger, as one comparable string.</summary>
        public async Task<string> LedgerAsync(string orgId)
        {
            var reader = App.Services.GetRequiredService<Functions.Ledger.LedgerReader>();
            var transactions = await reader.TransactionsAsync(orgId, 100, null, CancellationToken.None);
            var accounts = await reader.AccountsAsync(orgId, CancellationToken.None);
            return JsonSerializer.Serialize(new { transactions, accounts });
        }

        public async ValueTask DisposeAsync()
        {
            await App.DisposeAsync();
            Razorpay.Stop();
            Razorpay.Dispose();
        }
    }
}
