using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Razorpay;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>
/// Signed <c>payment.captured</c> webhooks → inbox → queue → <c>ProcessRazorpayEvent</c> → ledger
/// posting, in events per second until the last posting lands, against raw entity-group transactions
/// of the same shape (idempotency check, balance read, one batch: idempotency row, header, two lines,
/// two balance rows under their ETags, retried on a lost race) at the same concurrency into one
/// partition. One delivery in ten is repeated. Afterwards every payment must be posted exactly once
/// and the ledgers must balance.
/// </summary>
public sealed class LedgerScenario : ILoadScenario
{
    private static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(3);

    public string Name => "ledger";

    public string Description => "webhook ingest → processed posting, events/s, vs raw entity-group transactions of the same shape";

    public async Task<JsonObject> RunAsync(LoadContext context)
    {
        var options = context.Options;
        var azurite = await context.AzuriteAsync();
        await using var app = await context.StartAppAsync();
        var token = await context.UserTokenAsync(app, "bench-ledger-" + Guid.NewGuid().ToString("N")[..8]);
        var orgId = await context.CreateOrgAsync(app, token, "Ledger Bench");
        var ledgerTable = new TableClient(azurite.ConnectionString, LedgerKeys.TableName);
        var storage = StorageFor(azurite);
        var ledgers = new[] { orgId, ChartOfAccounts.PlatformLedger };
        var linesBefore = await ClearingLinesAsync(ledgerTable, ledgers);

        // Razorpay ids are 14 characters after the prefix.
        var run = Guid.NewGuid().ToString("N")[..8];
        var events = Enumerable.Range(0, options.Events)
            .Select(i => (PaymentId: $"pay_{run}{i:D6}", EventId: $"evt_{run}{i:D6}"))
            .ToArray();

        var ingest = new List<double>[options.Concurrency];
        var next = -1;
        long duplicatesAcknowledged = 0, rejected = 0;
        var azuriteCpuBefore = azurite.CpuTime;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(c => Task.Run(async () =>
        {
            var mine = ingest[c] = [];
            int i;
            while ((i = Interlocked.Increment(ref next)) < events.Length)
            {
                var (paymentId, eventId) = events[i];
                var body = Encoding.UTF8.GetBytes(Captured(paymentId, 10_000 + i, orgId));
                for (var delivery = 0; delivery < (i % 10 == 0 ? 2 : 1); delivery++)
                {
                    var started = Stopwatch.GetTimestamp();
                    using var response = await context.Http.PostAsync(new Uri(app.BaseAddress, "/api/v1/webhooks/razorpay"), Signed(context, body, eventId));
                    mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    var text = await response.Content.ReadAsStringAsync();
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref rejected);
                    }
                    else if (delivery > 0 && text.Contains("\"duplicate\":true", StringComparison.Ordinal))
                    {
                        Interlocked.Increment(ref duplicatesAcknowledged);
                    }
                }
            }
        })));
        var ingested = watch.Elapsed;

        long posted = 0;
        while (watch.Elapsed < MaxWait)
        {
            posted = await ClearingLinesAsync(ledgerTable, ledgers) - linesBefore;
            if (posted >= events.Length)
            {
                break;
            }

            await Task.Delay(50);
        }

        var processed = watch.Elapsed;
        var appAzuriteCpu = azurite.CpuTime - azuriteCpuBefore;
        var appRate = posted / processed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  app: {events.Length} events (+{events.Length / 10} duplicate deliveries) ingested in {ingested.TotalSeconds:F1} s, ingest {Latency.Of([.. ingest.SelectMany(l => l)])}; " +
            $"{posted} postings in {processed.TotalSeconds:F1} s = {appRate:F1} events/s"));

        // Exactly once: every payment's idempotency row in exactly one ledger, and exactly one
        // clearing line per payment.
        var lost = 0;
        var doubled = 0;
        foreach (var (paymentId, _) in events)
        {
            var copies = 0;
            foreach (var ledger in ledgers)
            {
                var row = await ledgerTable.GetEntityIfExistsAsync<TableEntity>(ledger, LedgerKeys.Idempotency($"payment:{paymentId}"), select: ["TransactionId"]);
                copies += row.HasValue ? 1 : 0;
            }

            lost += copies == 0 ? 1 : 0;
            doubled += copies > 1 ? 1 : 0;
        }

        var finalLines = await ClearingLinesAsync(ledgerTable, ledgers) - linesBefore;
        doubled += (int)Math.Max(0, finalLines - events.Length);
        var reader = new LedgerReader(storage, TimeProvider.System);
        var consistent = true;
        foreach (var ledger in ledgers)
        {
            var discrepancies = await reader.CheckBalancesAsync(ledger, CancellationToken.None);
            var trial = await reader.TrialBalanceAsync(ledger, null, CancellationToken.None);
            consistent &= discrepancies.Count == 0 && trial.Balanced;
        }

        Console.WriteLine($"  check: lost {lost}, doubled {doubled}, duplicate deliveries acknowledged {duplicatesAcknowledged}/{events.Length / 10}, rejected {rejected}, ledgers balanced and equal to their lines: {consistent}");

        azuriteCpuBefore = azurite.CpuTime;
        var raw = await RawPostingsAsync(azurite, events.Length, options.Concurrency);
        var rawAzuriteCpu = azurite.CpuTime - azuriteCpuBefore;
        var rawRate = events.Length / raw.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  raw entity-group transactions: {events.Length} in {raw.TotalSeconds:F1} s = {rawRate:F1} postings/s (c={options.Concurrency})"));

        // Azurite runs its storage on one Node.js thread; when it is busy all the time, throughput is
        // the inverse of its CPU per event, so the two rows below show where the ratio comes from.
        var appCpuPerEvent = appAzuriteCpu.TotalMilliseconds / events.Length;
        var rawCpuPerEvent = rawAzuriteCpu.TotalMilliseconds / events.Length;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  Azurite CPU: app {appCpuPerEvent:F2} ms/event ({appAzuriteCpu.TotalSeconds / processed.TotalSeconds:P0} of a core), " +
            $"raw {rawCpuPerEvent:F2} ms/posting ({rawAzuriteCpu.TotalSeconds / raw.TotalSeconds:P0} of a core); raw / app per event {rawCpuPerEvent / appCpuPerEvent:F2}×"));

        var ratio = Target.AtLeast("ledger events/s / raw transactions/s", appRate / rawRate, 0.6);
        return new JsonObject
        {
            ["events"] = events.Length,
            ["duplicateDeliveries"] = events.Length / 10,
            ["concurrency"] = options.Concurrency,
            ["ingestSeconds"] = Math.Round(ingested.TotalSeconds, 2),
            ["ingestLatencyMs"] = Latency.Of([.. ingest.SelectMany(l => l)]).ToJson(),
            ["processedSeconds"] = Math.Round(processed.TotalSeconds, 2),
            ["appEventsPerSecond"] = Math.Round(appRate, 1),
            ["rawTransactionsPerSecond"] = Math.Round(rawRate, 1),
            ["azuriteCpuMsPerEvent"] = Math.Round(appCpuPerEvent, 3),
            ["azuriteCpuMsPerRawPosting"] = Math.Round(rawCpuPerEvent, 3),
            ["azuriteBusyDuringApp"] = Math.Round(appAzuriteCpu.TotalSeconds / processed.TotalSeconds, 2),
            ["azuriteBusyDuringRaw"] = Math.Round(rawAzuriteCpu.TotalSeconds / raw.TotalSeconds, 2),
            ["ratio"] = ratio.Print(),
            ["lost"] = lost,
            ["doubled"] = doubled,
            ["rejected"] = rejected,
            ["duplicatesAcknowledged"] = duplicatesAcknowledged,
            ["ledgersConsistent"] = consistent,
            ["exactlyOnce"] = lost == 0 && doubled == 0 && consistent,
            ["appWorkingSetMiB"] = RequestOverheadScenario.Round(app.WorkingSetMiB),
            ["appPeakWorkingSetMiB"] = RequestOverheadScenario.Round(app.PeakWorkingSetMiB),
        };
    }

    public static RaptorFlow.Functions.Platform.Storage.StorageAccount StorageFor(LocalAzurite azurite) =>
        new(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["AzureWebJobsStorage"] = azurite.ConnectionString }).Build());

    private static async Task<long> ClearingLinesAsync(TableClient table, IEnumerable<string> ledgers)
    {
        long lines = 0;
        foreach (var ledger in ledgers)
        {
            var row = await table.GetEntityIfExistsAsync<TableEntity>(ledger, LedgerKeys.Balance(ChartOfAccounts.RazorpayClearing, "INR"), select: ["LineCount"]);
            lines += row.HasValue ? row.Value!.GetInt64("LineCount") ?? 0 : 0;
        }

        return lines;
    }

    private static ByteArrayContent Signed(LoadContext context, byte[] body, string eventId)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.Add("X-Razorpay-Signature", WebhookSignature.Sign(context.WebhookSecret, body));
        content.Headers.Add("x-razorpay-event-id", eventId);
        return content;
    }

    private static string Captured(string paymentId, long amount, string orgId) => new JsonObject
    {
        ["entity"] = "event",
        ["account_id"] = "acc_BFQ7uQEaa7j2z7",
        ["event"] = "payment.captured",
        ["contains"] = new JsonArray("payment"),
        ["payload"] = new JsonObject
        {
            ["payment"] = new JsonObject
            {
                ["entity"] = new JsonObject
                {
                    ["id"] = paymentId,
                    ["entity"] = "payment",
                    ["amount"] = amount,
                    ["currency"] = "INR",
                    ["status"] = "captured",
                    ["order_id"] = "order_" + paymentId[4..],
                    ["method"] = "upi",
                    ["captured"] = true,
                    ["notes"] = new JsonObject { ["org_id"] = orgId },
                    ["fee"] = null,
                    ["tax"] = null,
                    ["created_at"] = 1_700_000_000,
                },
            },
        },
        ["created_at"] = 1_700_000_000,
    }.ToJsonString();

    /// <summary>The storage work a posting cannot avoid, with nothing around it: same reads, same batch, same retry on a lost race.</summary>
    private static async Task<TimeSpan> RawPostingsAsync(LocalAzurite azurite, int count, int concurrency)
    {
        var table = new TableClient(azurite.ConnectionString, "BenchRawLedger");
        await table.CreateIfNotExistsAsync();
        var partition = "raw_" + Guid.NewGuid().ToString("N");
        var next = -1;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                for (var attempt = 1; ; attempt++)
                {
                    var key = $"idem|payment:raw{i:D6}";
                    _ = await table.GetEntityIfExistsAsync<TableEntity>(partition, key);
                    var balances = new Dictionary<string, TableEntity>(StringComparer.Ordinal);
                    await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {"bal|"} and RowKey lt {"bal}"}")))
                    {
                        balances[row.RowKey] = row;
                    }

                    var txn = $"txn_{i:D26}";
                    var actions = new List<TableTransactionAction>
                    {
                        new(TableTransactionActionType.Add, new TableEntity(partition, key) { ["TransactionId"] = txn, ["ContentHash"] = new string('a', 64) }),
                        new(TableTransactionActionType.Add, new TableEntity(partition, "txn|" + txn)
                        {
                            ["TransactionId"] = txn, ["IdempotencyKey"] = key, ["Description"] = $"Razorpay payment raw{i} captured",
                            ["SourceEventId"] = $"evt_raw{i:D6}", ["PostedAt"] = DateTimeOffset.UtcNow, ["LineCount"] = 2,
                        }),
                    };
                    foreach (var (account, debit, credit) in new[] { ("razorpay_clearing", 10_000L + i, 0L), ("suspense", 0L, 10_000L + i) })
                    {
                        actions.Add(new(TableTransactionActionType.Add, new TableEntity(partition, $"line|{txn}|{actions.Count - 2:D3}")
                        {
                            ["TransactionId"] = txn,
                            ["Account"] = account,
                            ["Currency"] = "INR",
                            ["Debit"] = debit,
                            ["Credit"] = credit,
                            ["Memo"] = $"Payment raw{i}",
                            ["PostedAt"] = DateTimeOffset.UtcNow,
                        }));
                        var balanceKey = $"bal|{account}|INR";
                        var balance = balances.TryGetValue(balanceKey, out var current) ? current : null;
                        var updated = new TableEntity(partition, balanceKey)
                        {
                            ["Account"] = account,
                            ["Currency"] = "INR",
                            ["DebitTotal"] = (balance?.GetInt64("DebitTotal") ?? 0) + debit,
                            ["CreditTotal"] = (balance?.GetInt64("CreditTotal") ?? 0) + credit,
                            ["LineCount"] = (balance?.GetInt64("LineCount") ?? 0) + 1,
                            ["UpdatedAt"] = DateTimeOffset.UtcNow,
                        };
                        actions.Add(balance is null
                            ? new TableTransactionAction(TableTransactionActionType.Add, updated)
                            : new TableTransactionAction(TableTransactionActionType.UpdateReplace, updated, balance.ETag));
                    }

                    try
                    {
                        await table.SubmitTransactionAsync(actions);
                        break;
                    }
                    catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < 40)
                    {
                        // The posting engine's back-off.
                        await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 10 + (Math.Min(attempt, 10) * 15))));
                    }
                }
            }
        })));
        return watch.Elapsed;
    }
}
