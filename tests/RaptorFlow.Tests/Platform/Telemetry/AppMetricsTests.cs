using System.Net;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Operations;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Tests.ApiKeys;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Razorpay;
using RaptorFlow.Tests.Usage;

namespace RaptorFlow.Tests.Platform.Telemetry;

/// <summary>Each raptorflow.* instrument moves with the event that should move it, in the real app on Azurite.</summary>
public sealed class AppMetricsTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly MetricRecorder _metrics = new();
    private readonly LogCapture _logs = new();
    private readonly FlakyConsumer _flaky = new();
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        var settings = ApiKeyTestKit.Settings(RazorpayTestKit.Settings());
        _app = await TestApp.StartAsync(settings, clock: _clock, hostDrivesTriggers: true, customize: b =>
        {
            b.Services.AddSingleton<IRazorpayEventConsumer>(_flaky);
            b.Logging.AddProvider(_logs);
        });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _metrics.Dispose();
    }

    private static (string, string) Tag(string key, string value) => (key, value);

    [Fact]
    public async Task Webhook_deliveries_are_counted_by_outcome()
    {
        var eventId = RazorpayTestKit.NewId("evt");
        var body = RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 1_000, null);

        using (var accepted = await _app.DeliverAsync(body, eventId))
        using (var duplicate = await _app.DeliverAsync(body, eventId))
        using (var forged = await _app.DeliverAsync(body, RazorpayTestKit.NewId("evt"), secret: "not-the-secret"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        }

        Assert.True(_metrics.Sum("raptorflow.webhooks.received", Tag("outcome", "accepted")) >= 1);
        Assert.True(_metrics.Sum("raptorflow.webhooks.received", Tag("outcome", "duplicate")) >= 1);
        Assert.True(_metrics.Sum("raptorflow.webhooks.received", Tag("outcome", "signature_invalid")) >= 1);
    }

    [Fact]
    public async Task A_processed_capture_counts_the_event_its_posting_and_the_amount_collected()
    {
        var (_, orgId) = await _app.NewOrgAsync();
        var eventId = RazorpayTestKit.NewId("evt");
        using (var delivered = await _app.DeliverAsync(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 123_457, orgId), eventId))
        {
            Assert.Equal(HttpStatusCode.OK, delivered.StatusCode);
        }

        using var response = await _app.InvokeAsync(ProcessRazorpayEvent.FunctionName, HostInvocations.QueueTextEnvelope(JsonSerializer.Serialize(new { eventId })));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(_metrics.Sum("raptorflow.webhooks.processed", Tag("outcome", "processed")) >= 1);
        Assert.True(_metrics.Sum("raptorflow.ledger.postings", Tag("ledger", "org"), Tag("outcome", "posted")) >= 1);
        Assert.True(_metrics.Sum("raptorflow.billing.collected", Tag("currency", "INR")) >= 123_457);
        Assert.NotEmpty(_metrics.Values("raptorflow.function.duration",
            Tag("function", ProcessRazorpayEvent.FunctionName), Tag("trigger", "queue"), Tag("outcome", "succeeded")));
    }

    [Fact]
    public async Task A_failing_event_counts_as_failed_then_poison_and_its_invocations_as_failed()
    {
        var eventId = RazorpayTestKit.NewId("evt");
        using (var delivered = await _app.DeliverAsync(RazorpayTestKit.Event("test.flaky"), eventId))
        {
            Assert.Equal(HttpStatusCode.OK, delivered.StatusCode);
        }

        var message = JsonSerializer.Serialize(new { eventId });
        using var first = await _app.InvokeAsync(ProcessRazorpayEvent.FunctionName, HostInvocations.QueueTextEnvelope(message, dequeueCount: 1));
        using var last = await _app.InvokeAsync(ProcessRazorpayEvent.FunctionName, HostInvocations.QueueTextEnvelope(message, dequeueCount: 5));

        Assert.False(first.IsSuccessStatusCode);
        Assert.False(last.IsSuccessStatusCode);
        Assert.True(_metrics.Sum("raptorflow.webhooks.processed", Tag("outcome", "failed")) >= 1);
        Assert.True(_metrics.Sum("raptorflow.webhooks.processed", Tag("outcome", "poison")) >= 1);
        Assert.True(_metrics.Values("raptorflow.function.duration", Tag("function", ProcessRazorpayEvent.FunctionName), Tag("outcome", "failed")).Count >= 2);
    }

    [Fact]
    public async Task Timer_invocations_record_their_duration_and_outcome()
    {
        using var response = await _app.InvokeAsync(SweepWebhookInbox.FunctionName, HostInvocations.TimerEnvelope());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotEmpty(_metrics.Values("raptorflow.function.duration",
            Tag("function", SweepWebhookInbox.FunctionName), Tag("trigger", "timer"), Tag("outcome", "succeeded")));
    }

    [Fact]
    public async Task Standalone_queue_invocations_record_their_duration_too()
    {
        var queue = $"{CheckLedgerQueue.Default}-{Guid.NewGuid():N}";
        await using var standalone = await TestApp.StartAsync(new Dictionary<string, string?> { ["Ledger:CheckQueue"] = queue });
        var ledgerId = RazorpayTestKit.NewOrgId();

        await standalone.Storage.Queue(queue).SendMessageAsync(JsonSerializer.Serialize(new CheckLedgerMessage(ledgerId)));

        // The poller picks the message up on its own schedule: wait for the invocation (the cap only stops a hang).
        var cap = DateTime.UtcNow.AddMinutes(2);
        while (_metrics.Values("raptorflow.function.duration", Tag("function", CheckLedger.FunctionName), Tag("outcome", "succeeded")).Count == 0 && DateTime.UtcNow < cap)
        {
            await Task.Delay(50);
        }

        Assert.NotEmpty(_metrics.Values("raptorflow.function.duration", Tag("function", CheckLedger.FunctionName), Tag("trigger", "queue"), Tag("outcome", "succeeded")));
    }

    [Fact]
    public async Task Lost_races_are_counted_per_policy_as_retried_then_exhausted()
    {
        var policy = new ConcurrencyPolicy("Probe" + Guid.NewGuid().ToString("N"), 2);

        var result = await OptimisticConcurrency.RunAsync<int>(policy, attempt => Task.FromResult(attempt == 1 ? Attempt.LostRace<int>() : 7), default);
        await OptimisticConcurrency.RunAsync<int>(policy, _ => Task.FromResult(Attempt.LostRace<int>()), default, exhausted: () => 0);

        Assert.Equal(7, result);
        Assert.Equal(2, _metrics.Sum("raptorflow.concurrency.conflicts", Tag("policy", policy.Name), Tag("result", "retried")));
        Assert.Equal(1, _metrics.Sum("raptorflow.concurrency.conflicts", Tag("policy", policy.Name), Tag("result", "exhausted")));
    }

    [Fact]
    public async Task Api_key_requests_count_verifications_by_outcome_and_cache_hits()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, "org:read");

        using (var first = await _app.GetOrgWithKeyAsync(key.Secret, orgId))
        using (var second = await _app.GetOrgWithKeyAsync(key.Secret, orgId))
        using (var unknown = await _app.GetOrgWithKeyAsync(key.Secret[..^4] + "abcd", orgId))
        {
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        }

        Assert.True(_metrics.Sum("raptorflow.apikeys.verifications", Tag("outcome", "ok")) >= 2);
        Assert.True(_metrics.Sum("raptorflow.apikeys.verifications", Tag("outcome", "invalid")) >= 1);
        Assert.True(_metrics.Sum("raptorflow.apikeys.cache", Tag("result", "miss")) >= 1);
        Assert.True(_metrics.Sum("raptorflow.apikeys.cache", Tag("result", "hit")) >= 1);
    }

    [Fact]
    public async Task Usage_events_count_by_outcome_and_the_rollup_reports_its_lag()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var id = "ev-" + Guid.NewGuid().ToString("N");
        var at = _clock.GetUtcNow().AddHours(-2).ToString("O");

        await owner.PostEventsAsync(orgId,
            new { id, meter = "api_calls", quantity = 2, timestamp = at },
            new { id, meter = "api_calls", quantity = 2, timestamp = at },
            new { id = "bad id", meter = "api_calls", quantity = 1, timestamp = at });
        await _app.Services.GetRequiredService<RaptorFlow.Functions.Usage.UsageRollup>().RunForOrgAsync(orgId, default);

        Assert.True(_metrics.Sum("raptorflow.usage.events", Tag("outcome", "accepted")) >= 1);
        Assert.True(_metrics.Sum("raptorflow.usage.events", Tag("outcome", "duplicate")) >= 1);
        Assert.True(_metrics.Sum("raptorflow.usage.events", Tag("outcome", "rejected")) >= 1);
        Assert.Contains(_metrics.Values("raptorflow.usage.rollup.lag"), lag => lag >= 3_600);
    }

    [Fact]
    public async Task The_sampler_reports_queue_depth_and_age_inbox_age_and_suspense()
    {
        var closeQueue = _app.Services.GetServices<FunctionDeclaration>().Single(d => d.Name == "CloseOrgPeriod").QueueName!;
        await _app.Storage.Queue(closeQueue).SendMessageAsync("{}");
        await _app.Storage.Queue(closeQueue).SendMessageAsync("{}");
        await _app.Storage.Queue(closeQueue + "-poison").SendMessageAsync("{}");
        await _app.DeliverAndProcessAsync(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 5_555, orgId: null), RazorpayTestKit.NewId("evt"));
        using (var unsettled = await _app.DeliverAsync(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 1, orgId: null), RazorpayTestKit.NewId("evt")))
        {
            Assert.Equal(HttpStatusCode.OK, unsettled.StatusCode);
        }

        _clock.Advance(TimeSpan.FromMinutes(20));
        using var response = await _app.InvokeAsync(SampleOperations.FunctionName, HostInvocations.TimerEnvelope());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var depths = _metrics.Observe("raptorflow.queue.depth");
        Assert.Contains(depths, d => d.Tags["queue"] == closeQueue && d.Value == 2);
        Assert.Contains(depths, d => d.Tags["queue"] == closeQueue + "-poison" && d.Value == 1);
        Assert.Contains(_metrics.Observe("raptorflow.queue.oldest_age"), d => d.Tags["queue"] == closeQueue && d.Value >= 0);
        Assert.Contains(_metrics.Observe("raptorflow.webhooks.inbox.oldest_unsettled_age"), d => d.Value >= 20 * 60);
        Assert.Contains(_metrics.Observe("raptorflow.ledger.suspense.balance"), d => d.Tags["currency"] == "INR" && d.Value >= 5_555);
    }

    [Fact]
    public async Task The_ledger_check_counts_and_logs_an_imbalance()
    {
        var (_, orgId) = await _app.NewOrgAsync();
        await _app.DeliverAndProcessAsync(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 8_000, orgId), RazorpayTestKit.NewId("evt"));
        using (var scope = _app.Services.CreateScope())
        {
            Assert.True(await scope.ServiceProvider.GetRequiredService<CheckLedger>().CheckAsync(orgId, default));
        }


        // A balance row edited behind the engine's back: its lines no longer sum to it.
        var ledger = _app.Storage.Table("Ledger");
        var balance = await ledger.GetEntityAsync<TableEntity>(orgId, "bal|customer_credit|INR");
        balance.Value["CreditTotal"] = 9_000L;
        await ledger.UpdateEntityAsync(balance.Value, balance.Value.ETag, TableUpdateMode.Merge);
        using var response = await _app.InvokeAsync(CheckLedger.FunctionName, HostInvocations.QueueTextEnvelope(JsonSerializer.Serialize(new CheckLedgerMessage(orgId))));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(_metrics.Sum("raptorflow.ledger.consistency.imbalances", Tag("kind", "balance")) >= 1);
        Assert.True(_metrics.Sum("raptorflow.ledger.consistency.checked", Tag("result", "inconsistent")) >= 1);
        Assert.Contains(_logs.Lines, l => l.Level == LogLevel.Error && l.Message.Contains(orgId, StringComparison.Ordinal) && l.Message.Contains("customer_credit", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_daily_ledger_check_enqueues_every_ledger()
    {
        var (_, orgId) = await _app.NewOrgAsync();
        await _app.DeliverAndProcessAsync(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 1_500, orgId), RazorpayTestKit.NewId("evt"));
        await _app.DeliverAndProcessAsync(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 700, orgId: null), RazorpayTestKit.NewId("evt"));

        using var response = await _app.InvokeAsync(CheckLedgers.FunctionName, HostInvocations.TimerEnvelope());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var queue = _app.Storage.Queue(_app.Services.GetRequiredService<CheckLedgerQueue>().Name);
        var ledgers = new HashSet<string>();
        while ((await queue.ReceiveMessagesAsync(32)).Value is { Length: > 0 } messages)
        {
            foreach (var message in messages)
            {
                ledgers.Add(JsonSerializer.Deserialize<CheckLedgerMessage>(message.Body.ToString(), JsonSerializerOptions.Web)!.LedgerId);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
        }

        Assert.Contains(orgId, ledgers);
        Assert.Contains(ChartOfAccounts.PlatformLedger, ledgers);
    }
}
