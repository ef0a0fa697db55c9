using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Usage;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>
/// Usage metering (issue 6) on Azurite, in two parts.
/// <para>Ingest: N clients post batches of 500 usage events (spread over the last three hours) to
/// <c>POST /orgs/{orgId}/usage-events</c> of N orgs in turn, in events/s; the baseline writes the same
/// rows raw through <see cref="TableClient"/> at the same concurrency: the 500 id claims in
/// entity-group transactions of 100, the events in transactions of up to 100 per hour partition
/// (four at a time), and the hours' pending marks in one transaction. The two alternate in slices.</para>
/// <para>Rollup: raw events seeded straight into the app's tables (its own row types and keys) at 1×,
/// 10× and 100× the base count, then <c>POST /RollupUsage</c> invoked as the Functions host invokes a
/// timer. The timer only enqueues one <c>RollupOrgUsage</c> message per org, so the time runs until the
/// app's own queue poller (standalone, every other trigger off) has drained them: until the pending
/// partition is empty. Every size has 100 events per org-hour and 20 hours per org, so the work (hour
/// partitions, days, months) grows with the events; the per-event cost at 100× over 1× is 1.0 when
/// the rollup is linear. Each rollup's monthly totals are checked against what was seeded.</para>
/// <para>Azurite's own curve, in the same run: the same table operations the rollup makes (read the
/// period's totals, sum the level below, write the totals in one transaction, for every hour, day and
/// month; delete the pending marks) made straight through <see cref="TableClient"/> over the same events,
/// into tables of their own. If it grows as the app's does, the growth is the storage's, not the rollup's.</para>
/// </summary>
public sealed class UsageScenario : ILoadScenario
{
    public const int BatchSize = 500;
    private const int EventsPerOrgHour = 100;
    private const int HoursPerOrg = 20;
    private const int TransactionSize = 100;
    private static readonly int[] Multiples = [1, 10, 100];
    private static readonly string[] MeterNames = [Meters.ApiCalls, "exports"];

    /// <summary>How often the driver looks for pending hours, and the app's poller for messages, while a rollup drains.</summary>
    private static readonly TimeSpan PollingInterval = TimeSpan.FromMilliseconds(50);

    private static readonly TimeSpan DrainTimeout = TimeSpan.FromMinutes(20);

    public string Name => "usage";

    public string Description => "usage events ingested/s vs raw Azurite writes of the same rows; rollup time vs events at 1×/10×/100× (linear)";

    public async Task<JsonObject> RunAsync(LoadContext context)
    {
        var options = context.Options;
        var azurite = await context.AzuriteAsync();
        var storage = LedgerScenario.StorageFor(azurite);
        foreach (var table in new[] { UsageEventIdRow.TableName, UsageEventRow.TableName, PendingHourRow.TableName, UsageTotalRow.TableName })
        {
            await storage.Table(table).CreateIfNotExistsAsync();
        }

        foreach (var table in new[] { RawRollup.TotalsTable, RawRollup.PendingTable })
        {
            await storage.Table(table).CreateIfNotExistsAsync();
        }

        // Only the RollupOrgUsage queue runs: the app's own hourly timer must not fire during a measured
        // rollup (the driver invokes it), and an idle poller must not wait 2 s before the first message.
        await using var app = await context.StartAppAsync(azurite, context.OnlyTriggers(PollingInterval, RollupOrgUsage.FunctionName));

        var run = Guid.NewGuid().ToString("N")[..8];
        var token = await context.UserTokenAsync(app, $"bench-usage-{run}");
        var orgs = new string[options.Concurrency];
        for (var c = 0; c < orgs.Length; c++)
        {
            orgs[c] = await context.CreateOrgAsync(app, token, $"Usage Bench {c}");
        }

        // Ingest through the app, the orgs taken in turn; a global batch number keeps every id new. A
        // batch, once sent, is let finish (the token is not passed on): the app would go on storing a
        // cancelled one in the baseline's time slice, and the closed loop times what completes.
        var authorization = new AuthenticationHeaderValue("Bearer", token);
        var batches = 0;
        long rejected = 0;
        async Task<bool> PostBatchAsync(CancellationToken _)
        {
            var n = Interlocked.Increment(ref batches);
            var events = Batch($"app-{run}-{n}", DateTimeOffset.UtcNow);
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(app.BaseAddress, $"/api/v1/orgs/{orgs[n % orgs.Length]}/usage-events"))
            {
                Content = JsonContent.Create(new { events = events.Select(e => new { id = e.Id, meter = e.Meter, quantity = e.Quantity, timestamp = e.OccurredAt }) }),
            };
            request.Headers.Authorization = authorization;
            using var response = await context.Http.SendAsync(request, CancellationToken.None);
            var body = response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<JsonObject>(CancellationToken.None) : null;
            var accepted = body?["accepted"]?.GetValue<int>() ?? 0;
            if (accepted != BatchSize)
            {
                Interlocked.Increment(ref rejected);
            }

            return accepted == BatchSize;
        }

        // The same rows for as many other orgs, written raw.
        var raw = new RawUsageWrites(storage.Table(UsageEventIdRow.TableName), storage.Table(UsageEventRow.TableName), storage.Table(PendingHourRow.TableName));
        var rawOrgs = Enumerable.Range(0, options.Concurrency).Select(c => $"org_bench{run}raw{c:D3}").ToArray();
        var rawBatchCount = 0;
        async Task<bool> WriteRawAsync(CancellationToken _)
        {
            var n = Interlocked.Increment(ref rawBatchCount);
            await raw.WriteAsync(rawOrgs[n % rawOrgs.Length], Batch($"raw-{run}-{n}", DateTimeOffset.UtcNow), CancellationToken.None);
            return true;
        }

        var (ingest, baseline) = await ClosedLoop.RunPairAsync(
            $"POST usage-events ({BatchSize} events)", PostBatchAsync, $"raw Azurite writes ({BatchSize} events)", WriteRawAsync, options);

        var appEvents = ingest.RequestsPerSecond * BatchSize;
        var rawEvents = baseline.RequestsPerSecond * BatchSize;
        var ratio = appEvents / rawEvents;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  => ingest: {appEvents:F0} events/s through the app, {rawEvents:F0} events/s raw; ratio {ratio:F2}× ({rejected} batches not fully accepted)"));

        // What the ingest and its baseline left pending is rolled up first (reported, not on the curve),
        // so each point of the curve rolls up exactly the events seeded for it.
        using var invoker = new HttpClient { Timeout = TimeSpan.FromMinutes(20) };
        var pendingHours = storage.Table(PendingHourRow.TableName);
        var (drain, _) = await RollupAsync(invoker, app, pendingHours);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  rollup of the ingested events: {drain.TotalSeconds:F2} s  (load {Machine.LoadAverage()})"));

        var points = new List<RollupPoint>();
        foreach (var multiple in Multiples)
        {
            var size = options.UsageBase * multiple;
            var seeded = Stopwatch.StartNew();
            var (seedOrgs, partitions, quantities) = await SeedAsync(
                storage.Table(UsageEventRow.TableName), [pendingHours, storage.Table(RawRollup.PendingTable)], $"{run}x{multiple}", size, options.Concurrency);
            seeded.Stop();
            var load = Machine.LoadAverage();
            var emptyQuery = await LocalAzurite.EmptyPartitionQueryAsync(storage.Table(UsageEventRow.TableName));
            var (elapsed, enqueue) = await RollupAsync(invoker, app, pendingHours);
            var correct = await TotalsMatchAsync(storage.Table(UsageTotalRow.TableName), seedOrgs, quantities);
            var alone = await new RawRollup(storage).RunAsync(partitions);
            var point = new RollupPoint(multiple, size, seedOrgs.Count, partitions.Count, elapsed.TotalSeconds, enqueue.TotalSeconds, alone.TotalSeconds, seeded.Elapsed.TotalSeconds, correct, load, emptyQuery.TotalMilliseconds);
            points.Add(point);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    {multiple,4}× ({size,8:N0} events, {seedOrgs.Count,4} orgs, {partitions.Count,5} org-hours): rollup {point.Seconds,7:F2} s = {point.MicrosecondsPerEvent,7:F1} µs/event" +
                $" (enqueue {point.EnqueueSeconds:F2} s); Azurite alone {point.RawSeconds,7:F2} s = {point.RawMicrosecondsPerEvent,7:F1} µs/event; app/Azurite {point.Seconds / point.RawSeconds:F2}×" +
                $"; one query of an empty partition of UsageEvents {point.EmptyQueryMs:F2} ms" +
                $"  (seeded in {point.SeedSeconds:F1} s; totals {(correct ? "correct" : "WRONG")}; load {load})"));
        }

        var linearity = Target.AtMost("rollup µs/event at 100× / 1× (linear ≈ 1.0)", points[^1].MicrosecondsPerEvent / points[0].MicrosecondsPerEvent, 1.5);
        var storageGrowth = points[^1].RawMicrosecondsPerEvent / points[0].RawMicrosecondsPerEvent;
        var overStorage = Target.AtMost("rollup µs/event at 100× / 1×, over Azurite's own growth for the same operations", linearity.Value / storageGrowth, 1.5);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  => per-event cost 100×/1×: app {linearity.Value:F2}×, Azurite alone {storageGrowth:F2}×; the app's growth over Azurite's {overStorage.Value:F2}×"));
        var chart = SvgChart.WriteIf(options.Save, context.RepositoryRoot, "bench-usage-rollup.svg", new SvgChart.Spec(
            "Usage rollup: cost per event against events rolled up",
            "events rolled up", "µs per event",
            [
                new SvgChart.Line("app (RollupUsage → RollupOrgUsage)", [.. points.Select(p => ((double)p.Events, p.MicrosecondsPerEvent))]),
                new SvgChart.Line("Azurite alone, same operations", [.. points.Select(p => ((double)p.Events, p.RawMicrosecondsPerEvent))]),
            ],
            (points[0].MicrosecondsPerEvent, points[0].MicrosecondsPerEvent * 1.5),
            LogX: true,
            GoalLabel: "≤ 1.5× the 1× cost"));
        var perMillion = points[^1].MicrosecondsPerEvent; // µs per event = s per million events
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  => rollup time per million events (from 100×): {perMillion:F0} s"));

        return new JsonObject
        {
            ["batchSize"] = BatchSize,
            ["concurrency"] = options.Concurrency,
            ["ingest"] = new JsonObject
            {
                ["app"] = ingest.ToJson(),
                ["rawWrites"] = baseline.ToJson(),
                ["appEventsPerSecond"] = Math.Round(appEvents, 0),
                ["rawEventsPerSecond"] = Math.Round(rawEvents, 0),
                ["ratio"] = Math.Round(ratio, 3),
                ["batchesNotFullyAccepted"] = rejected,
            },
            ["rollup"] = new JsonObject
            {
                ["eventsPerOrgHour"] = EventsPerOrgHour,
                ["hoursPerOrg"] = HoursPerOrg,
                ["drainSecondsAfterIngest"] = Math.Round(drain.TotalSeconds, 2),
                ["points"] = new JsonArray([.. points.Select(p => (JsonNode)p.ToJson())]),
                ["perEventCostRatio100xTo1x"] = linearity.Print(),
                ["azuritePerEventCostRatio100xTo1x"] = Math.Round(storageGrowth, 3),
                ["perEventCostRatioOverAzurite"] = overStorage.Print(),
                ["pollingIntervalSeconds"] = PollingInterval.TotalSeconds,
                ["secondsPerMillionEvents"] = Math.Round(perMillion, 1),
                ["totalsCorrect"] = points.All(p => p.TotalsCorrect),
                ["chart"] = chart,
            },
            ["appWorkingSetMiB"] = RequestOverheadScenario.Round(app.WorkingSetMiB),
            ["appPeakWorkingSetMiB"] = RequestOverheadScenario.Round(app.PeakWorkingSetMiB),
        };
    }

    /// <summary>500 events of one batch, alternating meters, dated over the last three hours.</summary>
    private static UsageEvent[] Batch(string prefix, DateTimeOffset now) =>
        [.. Enumerable.Range(0, BatchSize).Select(i => new UsageEvent($"{prefix}-{i}", MeterNames[i % MeterNames.Length], 1 + (i % 7), now.AddSeconds(-(i * 21))))];

    /// <summary>
    /// <c>POST /RollupUsage</c> with a timer envelope, as the Functions host sends it, then the wait until
    /// the fanned-out RollupOrgUsage messages have left no pending hour: the whole time, and the enqueue's.
    /// </summary>
    private static async Task<(TimeSpan Total, TimeSpan Enqueue)> RollupAsync(HttpClient invoker, AppProcess app, TableClient pendingHours)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(app.BaseAddress, "/" + RollupUsage.FunctionName))
        {
            Content = new StringContent("""{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"IsPastDue":false}},"Metadata":{}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-ms-invocation-id", Guid.NewGuid().ToString());
        var started = Stopwatch.GetTimestamp();
        using var response = await invoker.SendAsync(request);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK || body != FunctionInvocationApi.SuccessBody)
        {
            throw new InvalidOperationException($"RollupUsage answered {(int)response.StatusCode}: {body} {app.RecentErrors()}");
        }

        while (await LocalAzurite.AnyInPartitionAsync(pendingHours, PendingHourRow.Partition))
        {
            if (Stopwatch.GetElapsedTime(started) > DrainTimeout)
            {
                throw new TimeoutException($"RollupOrgUsage left hours pending after {DrainTimeout}: {app.RecentErrors()}");
            }

            await Task.Delay(PollingInterval);
        }

        return (Stopwatch.GetElapsedTime(started), elapsed);
    }

    /// <summary>
    /// <paramref name="size"/> raw events in the app's layout (<see cref="UsageEventRow"/> in
    /// <c>{org}|{hour}</c> partitions) and the hours' <see cref="PendingHourRow"/> marks, as
    /// <see cref="UsageStore"/> leaves them; the claim rows are left out, the rollup never reads them.
    /// </summary>
    private static async Task<(List<string> Orgs, List<(string Org, DateTimeOffset Hour)> Partitions, Dictionary<string, long> Quantities)> SeedAsync(
        TableClient events, TableClient[] pendingTables, string tag, int size, int concurrency)
    {
        var orgCount = Math.Max(1, (size + (EventsPerOrgHour * HoursPerOrg) - 1) / (EventsPerOrgHour * HoursPerOrg));
        var orgs = Enumerable.Range(0, orgCount).Select(o => $"org_bench{tag}o{o:D5}").ToList();
        var start = new DateTimeOffset(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);
        var partitions = new List<(string Org, DateTimeOffset Hour, int Count)>();
        var left = size;
        foreach (var org in orgs)
        {
            for (var h = 0; h < HoursPerOrg && left > 0; h++)
            {
                var count = Math.Min(EventsPerOrgHour, left);
                partitions.Add((org, start.AddHours(h), count));
                left -= count;
            }
        }

        var quantities = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (org, _, count) in partitions)
        {
            for (var i = 0; i < count; i++)
            {
                quantities[Key(org, MeterNames[i % MeterNames.Length])] = quantities.GetValueOrDefault(Key(org, MeterNames[i % MeterNames.Length])) + 1 + (i % 7);
            }
        }

        await Parallel.ForEachAsync(partitions, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (p, ct) =>
        {
            var partition = UsageKeys.HourPartition(p.Org, p.Hour);
            foreach (var chunk in Enumerable.Range(0, p.Count).Chunk(TransactionSize))
            {
                await events.SubmitTransactionAsync(chunk.Select(i => new TableTransactionAction(TableTransactionActionType.UpsertReplace, new UsageEventRow
                {
                    PartitionKey = partition,
                    RowKey = $"seed-{i:D5}",
                    Meter = MeterNames[i % MeterNames.Length],
                    Quantity = 1 + (i % 7),
                    OccurredAt = p.Hour.AddSeconds(i * 30),
                })), ct);
            }
        });

        foreach (var (pending, chunk) in pendingTables.SelectMany(t => partitions.Chunk(TransactionSize).Select(c => (t, c))))
        {
            await pending.SubmitTransactionAsync(chunk.Select(p => new TableTransactionAction(TableTransactionActionType.UpsertReplace, new PendingHourRow
            {
                RowKey = UsageKeys.PendingRowKey(p.Org, p.Hour),
                MarkedAt = DateTimeOffset.UtcNow,
            })));
        }

        return (orgs, [.. partitions.Select(p => (p.Org, p.Hour))], quantities);
    }

    /// <summary>Each seeded org's monthly total per meter equals what was seeded.</summary>
    private static async Task<bool> TotalsMatchAsync(TableClient totals, List<string> orgs, Dictionary<string, long> seeded)
    {
        var found = 0;
        foreach (var org in orgs)
        {
            await foreach (var row in totals.QueryAsync<UsageTotalRow>(
                TableClient.CreateQueryFilter($"PartitionKey eq {org} and RowKey ge {"m|"} and RowKey lt {"m}"}")))
            {
                if (seeded.GetValueOrDefault(Key(org, row.Meter)) != row.Quantity)
                {
                    return false;
                }

                found++;
            }
        }

        return found == seeded.Count;
    }

    private static string Key(string org, string meter) => org + "/" + meter;

    private sealed record RollupPoint(
        int Multiple, int Events, int Orgs, int OrgHours, double Seconds, double EnqueueSeconds, double RawSeconds, double SeedSeconds, bool TotalsCorrect, string Load, double EmptyQueryMs)
    {
        public double MicrosecondsPerEvent => Seconds * 1_000_000 / Events;

        public double RawMicrosecondsPerEvent => RawSeconds * 1_000_000 / Events;

        public JsonObject ToJson() => new()
        {
            ["multiple"] = Multiple,
            ["events"] = Events,
            ["orgs"] = Orgs,
            ["orgHours"] = OrgHours,
            ["rollupSeconds"] = Math.Round(Seconds, 3),
            ["microsecondsPerEvent"] = Math.Round(MicrosecondsPerEvent, 2),
            ["enqueueSeconds"] = Math.Round(EnqueueSeconds, 3),
            ["azuriteSeconds"] = Math.Round(RawSeconds, 3),
            ["azuriteMicrosecondsPerEvent"] = Math.Round(RawMicrosecondsPerEvent, 2),
            ["appOverAzurite"] = Math.Round(Seconds / RawSeconds, 3),
            ["emptyPartitionQueryMs"] = Math.Round(EmptyQueryMs, 3),
            ["loadAverage"] = Load,
            ["seedSeconds"] = Math.Round(SeedSeconds, 2),
            ["totalsCorrect"] = TotalsCorrect,
        };
    }

    /// <summary>The rows <see cref="UsageStore.RecordAsync"/> writes for a batch of new ids, written straight to the tables in the same transactions.</summary>
    private sealed class RawUsageWrites(TableClient ids, TableClient events, TableClient pending)
    {
        public async Task WriteAsync(string orgId, UsageEvent[] batch, CancellationToken cancellationToken)
        {
            var receivedAt = DateTimeOffset.UtcNow;
            foreach (var chunk in batch.Chunk(TransactionSize))
            {
                await ids.SubmitTransactionAsync(chunk.Select(e => new TableTransactionAction(TableTransactionActionType.Add, new UsageEventIdRow
                {
                    PartitionKey = orgId,
                    RowKey = e.Id,
                    Meter = e.Meter,
                    Quantity = e.Quantity,
                    OccurredAt = e.OccurredAt,
                    ReceivedAt = receivedAt,
                })), cancellationToken);
            }

            var byHour = batch.GroupBy(e => UsageKeys.HourOf(e.OccurredAt)).ToList();
            await Parallel.ForEachAsync(
                byHour.SelectMany(hour => hour.Chunk(TransactionSize).Select(chunk => (Hour: hour.Key, Rows: chunk))),
                new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
                async (part, ct) => await events.SubmitTransactionAsync(part.Rows.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, new UsageEventRow
                {
                    PartitionKey = UsageKeys.HourPartition(orgId, part.Hour),
                    RowKey = e.Id,
                    Meter = e.Meter,
                    Quantity = e.Quantity,
                    OccurredAt = e.OccurredAt,
                })), ct));

            await pending.SubmitTransactionAsync(byHour.Select(h => new TableTransactionAction(TableTransactionActionType.UpsertReplace, new PendingHourRow
            {
                RowKey = UsageKeys.PendingRowKey(orgId, h.Key),
                MarkedAt = receivedAt,
            })), cancellationToken);
        }
    }

    /// <summary>
    /// The rollup's table operations made straight through <see cref="TableClient"/>, as
    /// <see cref="UsageRollup"/> makes them for each org (at most 16 orgs at once, as the poller's batch,
    /// 8 periods at once within one): per hour, day and month, read the period's totals, sum the level
    /// below, write the sums in one transaction; then read the org's pending marks and delete them one by one.
    /// </summary>
    private sealed class RawRollup(RaptorFlow.Functions.Platform.Storage.StorageAccount storage)
    {
        public const string TotalsTable = "BenchRawUsageTotals";
        public const string PendingTable = "BenchRawPendingHours";

        private readonly TableClient _events = storage.Table(UsageEventRow.TableName);
        private readonly TableClient _totals = storage.Table(TotalsTable);
        private readonly TableClient _pending = storage.Table(PendingTable);

        public async Task<TimeSpan> RunAsync(List<(string Org, DateTimeOffset Hour)> partitions)
        {
            var started = Stopwatch.GetTimestamp();
            await Parallel.ForEachAsync(partitions.GroupBy(p => p.Org), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (org, ct) =>
            {
                var inner = new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct };
                var (from, to) = (org.Key + "|", org.Key + "}");
                var marks = new List<PendingHourRow>();
                await foreach (var row in _pending.QueryAsync<PendingHourRow>(
                    TableClient.CreateQueryFilter($"PartitionKey eq {PendingHourRow.Partition} and RowKey ge {from} and RowKey lt {to}"), cancellationToken: ct))
                {
                    marks.Add(row);
                }

                var hours = org.Select(p => p.Hour).ToList();
                await Parallel.ForEachAsync(hours, inner, async (hour, c) =>
                    await RecomputeAsync(org.Key, UsageGranularity.Hour, hour, SumEventsAsync(org.Key, hour, c), c));
                var days = hours.Select(h => UsageKeys.Floor(h, UsageGranularity.Day)).Distinct().ToList();
                await Parallel.ForEachAsync(days, inner, async (day, c) =>
                    await RecomputeAsync(org.Key, UsageGranularity.Day, day, SumTotalsAsync(org.Key, UsageGranularity.Hour, day, day.AddDays(1), c), c));
                var months = days.Select(d => UsageKeys.Floor(d, UsageGranularity.Month)).Distinct().ToList();
                await Parallel.ForEachAsync(months, inner, async (month, c) =>
                    await RecomputeAsync(org.Key, UsageGranularity.Month, month, SumTotalsAsync(org.Key, UsageGranularity.Day, month, month.AddMonths(1), c), c));
                await Parallel.ForEachAsync(marks, inner, async (mark, c) => await _pending.DeleteEntityAsync(mark.PartitionKey, mark.RowKey, mark.ETag, c));
            });
            return Stopwatch.GetElapsedTime(started);
        }

        private async Task RecomputeAsync(string org, UsageGranularity level, DateTimeOffset period, Task<Dictionary<string, long>> sum, CancellationToken ct)
        {
            var (from, to) = UsageKeys.TotalRange(level, period, UsageKeys.Next(period, level));
            await foreach (var _ in _totals.QueryAsync<UsageTotalRow>(TableClient.CreateQueryFilter($"PartitionKey eq {org} and RowKey ge {from} and RowKey lt {to}"), cancellationToken: ct))
            {
            }

            var sums = await sum;
            await _totals.SubmitTransactionAsync(sums.Select(s => new TableTransactionAction(TableTransactionActionType.UpsertReplace, new UsageTotalRow
            {
                PartitionKey = org,
                RowKey = UsageKeys.TotalRowKey(level, period, s.Key),
                Granularity = UsageKeys.Prefix(level),
                Meter = s.Key,
                PeriodStart = period,
                Quantity = s.Value,
                ComputedAt = DateTimeOffset.UtcNow,
            })), ct);
        }

        private async Task<Dictionary<string, long>> SumEventsAsync(string org, DateTimeOffset hour, CancellationToken ct)
        {
            var sums = new Dictionary<string, long>(StringComparer.Ordinal);
            await foreach (var row in _events.QueryAsync<UsageEventRow>(
                TableClient.CreateQueryFilter($"PartitionKey eq {UsageKeys.HourPartition(org, hour)}"), select: [nameof(UsageEventRow.Meter), nameof(UsageEventRow.Quantity)], cancellationToken: ct))
            {
                sums[row.Meter] = sums.GetValueOrDefault(row.Meter) + row.Quantity;
            }

            return sums;
        }

        private async Task<Dictionary<string, long>> SumTotalsAsync(string org, UsageGranularity below, DateTimeOffset fromPeriod, DateTimeOffset toPeriod, CancellationToken ct)
        {
            var (from, to) = UsageKeys.TotalRange(below, fromPeriod, toPeriod);
            var sums = new Dictionary<string, long>(StringComparer.Ordinal);
            await foreach (var row in _totals.QueryAsync<UsageTotalRow>(TableClient.CreateQueryFilter($"PartitionKey eq {org} and RowKey ge {from} and RowKey lt {to}"), cancellationToken: ct))
            {
                sums[row.Meter] = sums.GetValueOrDefault(row.Meter) + row.Quantity;
            }

            return sums;
        }
    }
}
