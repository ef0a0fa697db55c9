using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Tests.Razorpay;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>
/// Razorpay's webhooks for thousands of payments (captures, fees, partial refunds; notes on the
/// payment, on its order only, or nowhere) delivered in shuffled order, a fifth of the deliveries
/// duplicates, while the app is killed (SIGKILL) twice under load and restarted, and Azurite is
/// stopped for 10 s and started again on the same data. Like Razorpay, the driver re-sends every
/// delivery not answered 2xx until it is. Afterwards: every payment and refund is posted exactly
/// once, in the ledger its notes name, and every ledger balances to the figures the deliveries imply.
/// Each kill is timed at a moment when deliveries are in flight and the queue has a backlog, so
/// requests die between the inbox write and the enqueue and events die mid-posting; what the kill
/// caught is counted from storage before the restart.
/// </summary>
public sealed class SoakScenario : ILoadScenario
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxDrain = TimeSpan.FromMinutes(6);
    private const int MaxAttemptsPerDelivery = 200;

    public string Name => "soak";

    public string Description => "≥10,000 shuffled webhook deliveries (20% duplicates), two app kills and a 10 s storage outage: 0 lost, 0 doubled";

    private sealed record Payment(string Id, string Org, string OrgLedger, long Amount, long Fee, long Refund, string RefundId, string NotesOn);

    private sealed record Delivery(string EventId, byte[] Body);

    public async Task<JsonObject> RunAsync(LoadContext context)
    {
        var options = context.Options;
        var dataFolder = Path.Combine(context.WorkFolder, "soak-azurite");
        Directory.CreateDirectory(dataFolder);
        await using var azurite = await LocalAzurite.StartAsync(context.RepositoryRoot, dataFolder);
        var settings = new Dictionary<string, string>
        {
            // Faster than production so a run stays short: a message whose processor died comes back
            // after 10 s, and the sweeper re-enqueues an unprocessed event after 5 s.
            ["Hosting__Standalone__VisibilityTimeout"] = "00:00:10",
            ["Razorpay__SweepAfter"] = "00:00:05",
        };
        var app = await context.StartAppAsync(azurite, settings);
        try
        {
            var token = await context.UserTokenAsync(app, "bench-soak-" + Guid.NewGuid().ToString("N")[..8]);
            var orgs = new List<string>();
            for (var i = 0; i < 8; i++)
            {
                orgs.Add(await context.CreateOrgAsync(app, token, $"Soak {i}"));
            }

            // A fifth of the deliveries are repeats; each payment makes two events, one in five a third (its refund).
            var random = new Random(20261205);
            var distinct = options.Deliveries * 4 / 5;
            var payments = new List<Payment>();
            var events = new List<Delivery>();
            var run = Guid.NewGuid().ToString("N")[..6];
            while (events.Count < distinct)
            {
                var n = payments.Count;
                var notesOn = (n % 10) switch { 0 => "none", 1 or 2 => "order", _ => "payment" };
                var org = orgs[n % orgs.Count];
                var amount = 10_000L + random.Next(0, 500_000);
                var payment = new Payment($"pay_{run}{n:D8}", org, notesOn == "none" ? ChartOfAccounts.PlatformLedger : org, amount,
                    Fee: amount * 2 / 100, Refund: n % 5 == 4 ? amount / (2 + random.Next(0, 5)) : 0, RefundId: $"rfnd_{run}{n:D7}", notesOn);
                payments.Add(payment);
                events.AddRange(EventsOf(payment, org).Select((body, i) => new Delivery($"evt_{run}{n:D8}{i}", Encoding.UTF8.GetBytes(body))));
            }

            var deliveries = events.Concat(Enumerable.Range(0, options.Deliveries - events.Count).Select(_ => events[random.Next(events.Count)])).ToArray();
            random.Shuffle(deliveries);
            Console.WriteLine($"  {payments.Count} payments ({payments.Count(p => p.Refund > 0)} refunded): {events.Count} events, {deliveries.Length} deliveries ({deliveries.Length - events.Count} duplicates), shuffled");

            var driver = new Driver(context, deliveries, () => app);
            var watch = Stopwatch.StartNew();
            var sending = driver.RunAsync(options.Concurrency);
            var crashes = new JsonArray();
            foreach (var at in new[] { 0.25, 0.5 })
            {
                await driver.WaitForProgressAsync(at);
                var pending = await BacklogAsync(azurite);
                var inFlight = driver.InFlight();
                await app.DisposeAsync(); // SIGKILL
                driver.Paused = true; // Razorpay backs off while the endpoint is down
                var caught = await CaughtAsync(azurite, payments, inFlight);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  kill -9 at {driver.Answered}/{deliveries.Length} deliveries answered, queue backlog {pending}: {inFlight.Count} requests in flight, " +
                    $"{caught.StoredUnanswered} of them stored but never answered (killed between inbox write and answer, enqueue included); " +
                    $"{caught.PostedUnmarked} events posted but not marked processed (killed mid-posting); {caught.Received} stored events unprocessed"));
                crashes.Add(new JsonObject
                {
                    ["atAnswered"] = driver.Answered,
                    ["queueBacklog"] = pending,
                    ["requestsInFlight"] = inFlight.Count,
                    ["storedButUnanswered"] = caught.StoredUnanswered,
                    ["postedButNotMarked"] = caught.PostedUnmarked,
                    ["receivedUnprocessed"] = caught.Received,
                });
                var restart = Stopwatch.StartNew();
                app = await context.StartAppAsync(azurite, settings);
                driver.Paused = false;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  restarted in {restart.Elapsed.TotalSeconds:F1} s"));
            }

            await driver.WaitForProgressAsync(0.75);
            var before503 = driver.Status(HttpStatusCode.ServiceUnavailable);
            await azurite.StopAsync();
            var outage = Stopwatch.StartNew();
            await Task.Delay(Outage);
            await azurite.StartAgainAsync();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  storage down for {outage.Elapsed.TotalSeconds:F1} s at {driver.Answered}/{deliveries.Length}: {driver.Status(HttpStatusCode.ServiceUnavailable) - before503} deliveries answered 503 meanwhile (re-sent)"));

            await sending;
            var ingested = watch.Elapsed;

            // Razorpay is done; the sweeper (invoked as the Functions host fires it) enqueues anything
            // stored but never enqueued, and the queue drains.
            var drained = false;
            while (watch.Elapsed < ingested + MaxDrain)
            {
                await SweepAsync(context, app);
                if (await UnsettledAsync(azurite) == 0)
                {
                    drained = true;
                    break;
                }

                await Task.Delay(TimeSpan.FromSeconds(2));
            }

            var processed = watch.Elapsed;
            var statuses = (await StatusesAsync(azurite)).Values.GroupBy(s => s).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());
            var backlog = await BacklogAsync(azurite);
            Console.WriteLine($"  inbox: {string.Join(", ", statuses.Select(s => $"{s.Value} {s.Key}"))}; messages left on the queue: {backlog}");
            var check = await CheckAsync(azurite, payments, orgs);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {deliveries.Length} deliveries accepted in {ingested.TotalSeconds:F0} s after {driver.Attempts} attempts " +
                $"(503 {driver.Status(HttpStatusCode.ServiceUnavailable)}, other non-2xx {driver.OtherFailures}, connection errors {driver.ConnectionErrors}); " +
                $"all events settled: {drained} at {processed.TotalSeconds:F0} s"));
            Console.WriteLine($"  check: lost {check.Lost}, doubled {check.Doubled}, in the wrong ledger {check.Misplaced}, ledgers balanced and equal to their lines: {check.Consistent}, balances as the deliveries imply: {check.Expected}");
            var ok = check.Lost == 0 && check.Doubled == 0 && check.Misplaced == 0 && check.Consistent && check.Expected && drained;
            Console.WriteLine($"  => soak {(ok ? "PASSED" : "FAILED")}: 0 lost, 0 doubled, balanced ledgers");
            return new JsonObject
            {
                ["deliveries"] = deliveries.Length,
                ["distinctEvents"] = events.Count,
                ["duplicateDeliveries"] = deliveries.Length - events.Count,
                ["payments"] = payments.Count,
                ["refunds"] = payments.Count(p => p.Refund > 0),
                ["concurrency"] = options.Concurrency,
                ["attempts"] = driver.Attempts,
                ["answered503"] = driver.Status(HttpStatusCode.ServiceUnavailable),
                ["otherNon2xx"] = driver.OtherFailures,
                ["connectionErrors"] = driver.ConnectionErrors,
                ["crashes"] = crashes,
                ["storageOutageSeconds"] = Outage.TotalSeconds,
                ["ingestSeconds"] = Math.Round(ingested.TotalSeconds, 1),
                ["settledSeconds"] = Math.Round(processed.TotalSeconds, 1),
                ["allSettled"] = drained,
                ["queueBacklogAtEnd"] = backlog,
                ["inbox"] = new JsonObject([.. statuses.Select(s => KeyValuePair.Create(s.Key, (JsonNode?)s.Value))]),
                ["lost"] = check.Lost,
                ["doubled"] = check.Doubled,
                ["misplaced"] = check.Misplaced,
                ["ledgersConsistent"] = check.Consistent,
                ["balancesAsExpected"] = check.Expected,
                ["passed"] = ok,
            };
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    /// <summary>
    /// Sends every delivery until it is answered 2xx, as Razorpay retries: a failed one goes to the
    /// back of the line and is sent again after a second, at most <see cref="MaxAttemptsPerDelivery"/> times.
    /// </summary>
    private sealed class Driver(LoadContext context, Delivery[] deliveries, Func<AppProcess> app)
    {
        private readonly ConcurrentQueue<(Delivery Delivery, int Attempt, long NotBefore)> _retries = new();
        private readonly ConcurrentDictionary<HttpStatusCode, int> _statuses = new();
        private readonly ConcurrentDictionary<string, bool> _inFlight = new();
        private readonly ConcurrentDictionary<string, bool> _answeredIds = new();
        private int _next = -1;
        private int _answered;
        private int _attempts;
        private int _connectionErrors;

        public int Answered => Volatile.Read(ref _answered);
        public int Attempts => Volatile.Read(ref _attempts);
        public int ConnectionErrors => Volatile.Read(ref _connectionErrors);
        public int OtherFailures => _statuses.Where(s => s.Key != HttpStatusCode.ServiceUnavailable).Sum(s => s.Value);

        public int Status(HttpStatusCode status) => _statuses.GetValueOrDefault(status);

        public volatile bool Paused;

        /// <summary>Events whose request is in flight now and whose earlier deliveries were never answered.</summary>
        public IReadOnlyCollection<string> InFlight() => [.. _inFlight.Keys.Where(id => !_answeredIds.ContainsKey(id))];

        public async Task WaitForProgressAsync(double fraction)
        {
            while (Answered < deliveries.Length * fraction)
            {
                await Task.Delay(20);
            }
        }

        public Task RunAsync(int concurrency) =>
            Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(WorkAsync)));

        private async Task WorkAsync()
        {
            while (Answered < deliveries.Length)
            {
                (Delivery Delivery, int Attempt, long NotBefore) work;
                if (_retries.TryPeek(out var retry) && retry.NotBefore <= Stopwatch.GetTimestamp() && _retries.TryDequeue(out work))
                {
                }
                else if (Interlocked.Increment(ref _next) is var i && i < deliveries.Length)
                {
                    work = (deliveries[i], 1, 0);
                }
                else
                {
                    await Task.Delay(50);
                    continue;
                }

                while (Paused)
                {
                    await Task.Delay(50);
                }

                if (work.Attempt > MaxAttemptsPerDelivery)
                {
                    throw new InvalidOperationException($"Delivery of {work.Delivery.EventId} failed {MaxAttemptsPerDelivery} times.");
                }

                Interlocked.Increment(ref _attempts);
                _inFlight[work.Delivery.EventId] = true;
                try
                {
                    using var content = new ByteArrayContent(work.Delivery.Body);
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    content.Headers.Add("X-Razorpay-Signature", WebhookSignature.Sign(context.WebhookSecret, work.Delivery.Body));
                    content.Headers.Add("x-razorpay-event-id", work.Delivery.EventId);
                    using var response = await context.Http.PostAsync(new Uri(app().BaseAddress, "/api/v1/webhooks/razorpay"), content);
                    if (response.IsSuccessStatusCode)
                    {
                        _answeredIds[work.Delivery.EventId] = true;
                        Interlocked.Increment(ref _answered);
                        continue;
                    }

                    _statuses.AddOrUpdate(response.StatusCode, 1, (_, n) => n + 1);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref _connectionErrors);
                }
                catch (TaskCanceledException)
                {
                    Interlocked.Increment(ref _connectionErrors);
                }
                finally
                {
                    _inFlight.TryRemove(work.Delivery.EventId, out _);
                }

                _retries.Enqueue((work.Delivery, work.Attempt + 1, Stopwatch.GetTimestamp() + Stopwatch.Frequency));
            }
        }
    }

    private static IEnumerable<string> EventsOf(Payment payment, string orgId)
    {
        JsonNode Notes(string on) => payment.NotesOn == on ? new JsonObject { ["org_id"] = orgId } : new JsonArray();
        JsonObject Entity(long? fee) => new()
        {
            ["id"] = payment.Id,
            ["entity"] = "payment",
            ["amount"] = payment.Amount,
            ["currency"] = "INR",
            ["status"] = "captured",
            ["order_id"] = "order_" + payment.Id[4..],
            ["method"] = "upi",
            ["captured"] = true,
            ["notes"] = Notes("payment"),
            ["fee"] = fee,
            ["tax"] = fee * 18 / 118,
            ["created_at"] = 1_700_000_000,
        };
        var order = RazorpayTestKit.PaidOrder(payment.Id, payment.Amount, Notes("order"));
        yield return Event("payment.captured", ("payment", Entity(null)));
        yield return Event("order.paid", ("payment", Entity(payment.Fee)), ("order", order));
        if (payment.Refund > 0)
        {
            var refund = new JsonObject
            {
                ["id"] = payment.RefundId,
                ["entity"] = "refund",
                ["amount"] = payment.Refund,
                ["currency"] = "INR",
                ["payment_id"] = payment.Id,
                ["notes"] = new JsonArray(),
                ["status"] = "processed",
            };
            yield return Event("refund.processed", ("refund", refund), ("payment", Entity(payment.Fee)));
        }
    }

    private static string Event(string name, params (string Name, JsonObject Entity)[] entities)
    {
        var payload = new JsonObject();
        foreach (var (entity, value) in entities)
        {
            payload[entity] = new JsonObject { ["entity"] = value };
        }

        return new JsonObject
        {
            ["entity"] = "event",
            ["account_id"] = "acc_BFQ7uQEaa7j2z7",
            ["event"] = name,
            ["contains"] = new JsonArray([.. entities.Select(e => (JsonNode)JsonValue.Create(e.Name))]),
            ["payload"] = payload,
            ["created_at"] = 1_700_000_000,
        }.ToJsonString();
    }

    private static TableClient Inbox(LocalAzurite azurite) => new(azurite.ConnectionString, "RazorpayInbox");

    private static async Task<int> BacklogAsync(LocalAzurite azurite)
    {
        var queue = new Azure.Storage.Queues.QueueClient(azurite.ConnectionString, "razorpay-events");
        var properties = await queue.GetPropertiesAsync();
        return properties.Value.ApproximateMessagesCount;
    }

    /// <summary>Inbox rows still <c>received</c> (stored, not yet processed).</summary>
    private static async Task<List<string>> ReceivedAsync(LocalAzurite azurite) => [.. (await StatusesAsync(azurite)).Where(s => s.Value == "received").Select(s => s.Key)];

    private static async Task<Dictionary<string, string>> StatusesAsync(LocalAzurite azurite)
    {
        var statuses = new Dictionary<string, string>();
        await foreach (var row in Inbox(azurite).QueryAsync<TableEntity>(select: ["PartitionKey", "Status"]))
        {
            statuses[row.PartitionKey] = row.GetString("Status") ?? "";
        }

        return statuses;
    }

    /// <summary>Events still to be processed: received, or failed and waiting for the queue's retry.</summary>
    private static async Task<int> UnsettledAsync(LocalAzurite azurite) => (await StatusesAsync(azurite)).Values.Count(s => s is "received" or "failed");

    /// <summary>What the kill interrupted: requests that stored their event and died before answering, and postings not yet marked processed.</summary>
    private static async Task<(int StoredUnanswered, int PostedUnmarked, int Received)> CaughtAsync(LocalAzurite azurite, List<Payment> payments, IReadOnlyCollection<string> inFlight)
    {
        var inbox = Inbox(azurite);
        var stored = 0;
        foreach (var eventId in inFlight)
        {
            stored += (await inbox.GetEntityIfExistsAsync<TableEntity>(eventId, "event", select: ["Status"])).HasValue ? 1 : 0;
        }

        var received = await ReceivedAsync(azurite);
        var ledger = new TableClient(azurite.ConnectionString, LedgerKeys.TableName);
        var byId = payments.ToDictionary(p => p.Id[4..]);
        var posted = 0;
        foreach (var eventId in received)
        {
            // Event ids are evt_{payment suffix}{index}; the capture posting key names the payment.
            if (byId.TryGetValue(eventId[4..^1], out var payment)
                && (await ledger.GetEntityIfExistsAsync<TableEntity>(payment.OrgLedger, LedgerKeys.Idempotency($"payment:{payment.Id}"), select: ["TransactionId"])).HasValue)
            {
                posted++;
            }
        }

        return (stored, posted, received.Count);
    }

    /// <summary>SweepWebhookInbox as the Functions host's timer invokes it.</summary>
    private static async Task SweepAsync(LoadContext context, AppProcess app)
    {
        var now = DateTimeOffset.UtcNow;
        var envelope = JsonSerializer.Serialize(new
        {
            Data = new { timer = new { Schedule = new { AdjustForDST = true }, ScheduleStatus = new { Last = now.AddMinutes(-5), Next = now.AddMinutes(5), LastUpdated = now }, IsPastDue = false } },
            Metadata = new { sys = new { MethodName = SweepWebhookInbox.FunctionName, UtcNow = now } },
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(app.BaseAddress, "/" + SweepWebhookInbox.FunctionName))
        {
            Content = new StringContent(envelope, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-ms-invocation-id", Guid.NewGuid().ToString());
        using var response = await context.Http.SendAsync(request);
        await LoadContext.EnsureAsync(response, SweepWebhookInbox.FunctionName);
    }

    private sealed record Check(int Lost, int Doubled, int Misplaced, bool Consistent, bool Expected);

    /// <summary>
    /// Each payment's capture and each refund lives in exactly one ledger (a posting moved out of
    /// suspense counts where it was moved to), the one its notes name; every ledger balances, each
    /// balance equals its lines, and each ledger's clearing account holds what its payments imply.
    /// </summary>
    private static async Task<Check> CheckAsync(LocalAzurite azurite, List<Payment> payments, List<string> orgs)
    {
        var ledger = new TableClient(azurite.ConnectionString, LedgerKeys.TableName);
        async Task<bool> HasAsync(string ledgerId, string key) =>
            (await ledger.GetEntityIfExistsAsync<TableEntity>(ledgerId, LedgerKeys.Idempotency(key), select: ["TransactionId"])).HasValue;
        async Task<List<string>> HomesAsync(Payment payment, string key)
        {
            var homes = new List<string>();
            // The org the payment was made for is the only org it could wrongly land in besides the platform.
            if (await HasAsync(payment.Org, key))
            {
                homes.Add(payment.Org);
            }

            // A capture moved out of suspense is reversed under ":released", a refund under ":unparked".
            var moved = key + (key.StartsWith("refund:", StringComparison.Ordinal) ? ":unparked" : ":released");
            if (await HasAsync(ChartOfAccounts.PlatformLedger, key) && !await HasAsync(ChartOfAccounts.PlatformLedger, moved))
            {
                homes.Add(ChartOfAccounts.PlatformLedger);
            }

            return homes;
        }

        int lost = 0, doubled = 0, misplaced = 0;
        var examples = new List<string>();
        foreach (var payment in payments)
        {
            foreach (var key in payment.Refund > 0 ? new[] { $"payment:{payment.Id}", $"refund:{payment.RefundId}" } : [$"payment:{payment.Id}"])
            {
                var homes = await HomesAsync(payment, key);
                var wrong = homes.Count != 1 || homes[0] != payment.OrgLedger;
                lost += homes.Count == 0 ? 1 : 0;
                doubled += homes.Count > 1 ? 1 : 0;
                misplaced += homes.Count == 1 && wrong ? 1 : 0;
                if (wrong && examples.Count < 5)
                {
                    examples.Add($"{key} (notes on {payment.NotesOn}) in [{string.Join(", ", homes)}], belongs in {payment.OrgLedger}");
                }
            }
        }

        var storage = LedgerScenario.StorageFor(azurite);
        var reader = new LedgerReader(storage, TimeProvider.System);
        var consistent = true;
        var expected = true;
        foreach (var ledgerId in orgs.Append(ChartOfAccounts.PlatformLedger))
        {
            consistent &= (await reader.CheckBalancesAsync(ledgerId, CancellationToken.None)).Count == 0
                && (await reader.TrialBalanceAsync(ledgerId, null, CancellationToken.None)).Balanced;
            var mine = payments.Where(p => p.OrgLedger == ledgerId).ToList();
            var clearing = (await reader.AccountsAsync(ledgerId, CancellationToken.None))
                .Single(a => a.Code == ChartOfAccounts.RazorpayClearing).Balances.SingleOrDefault(b => b.Currency == "INR")?.Balance ?? 0;
            var implied = mine.Sum(p => p.Amount - p.Fee - p.Refund);
            if (clearing != implied)
            {
                expected = false;
                Console.WriteLine($"    ledger {ledgerId}: razorpay_clearing {clearing}, the deliveries imply {implied}");
            }
        }

        foreach (var example in examples)
        {
            Console.WriteLine($"    e.g. {example}");
        }

        return new Check(lost, doubled, misplaced, consistent, expected);
    }
}
