using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Privacy;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>
/// Org export throughput (issue 15) on Azurite: one org seeded straight into the app's tables, in its
/// own row types and keys, with <c>--export-rows</c> audit events and as many ledger lines (two per
/// transaction, with their transaction rows), then <c>POST /orgs/{orgId}/exports</c> timed until the
/// export reads <c>ready</c>, with only the <c>WriteExport</c> queue running. Reported: MB/s of archive
/// written, rows/s, and the app's working set before and its peak after. The baseline, in the same
/// run, pages through the same partitions raw with <see cref="TableClient"/> (twice, around the
/// export; the faster counts), so app/raw says what the zip, the blob upload and the progress writes
/// add to reading the rows. The archive is downloaded and its manifest's counts checked against the seed.
/// </summary>
public sealed class ExportsScenario : ILoadScenario
{
    private const int TransactionSize = 100;
    private static readonly TimeSpan PollingInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan ExportTimeout = TimeSpan.FromMinutes(30);

    public string Name => "exports";

    public string Description => "org export of N audit events + N ledger lines: MB/s of archive, peak working set; vs a raw paged read of the same rows";

    public async Task<JsonObject> RunAsync(LoadContext context)
    {
        var rows = context.Options.ExportRows;
        var azurite = await context.AzuriteAsync();
        var storage = LedgerScenario.StorageFor(azurite);
        var audit = storage.Table(AuditLog.TableName);
        var ledger = storage.Table(LedgerKeys.TableName);
        await audit.CreateIfNotExistsAsync();
        await ledger.CreateIfNotExistsAsync();

        await using var app = await context.StartAppAsync(azurite, context.OnlyTriggers(PollingInterval, WriteExport.FunctionName));
        var token = await context.UserTokenAsync(app, "bench-exports-" + Guid.NewGuid().ToString("N")[..8]);
        var orgId = await context.CreateOrgAsync(app, token, "Exports Bench");

        // What creating the org logged is exported too.
        var ownEvents = await CountAsync(audit, TableClient.CreateQueryFilter($"PartitionKey eq {orgId}"));
        var seeding = Stopwatch.StartNew();
        await SeedAsync(audit, ledger, orgId, rows, context.Options.Concurrency);
        seeding.Stop();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  seeded {rows:N0} audit events and {rows:N0} ledger lines ({rows / 2:N0} transactions) in {seeding.Elapsed.TotalSeconds:F1} s"));

        var rawBefore = await RawReadAsync(audit, ledger, orgId);
        var workingSetBefore = app.WorkingSetMiB;
        var load = Machine.LoadAverage();
        var authorization = new AuthenticationHeaderValue("Bearer", token);
        // The driver's client gives up after 30 s; on a shared machine one poll may wait longer than that.
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        var timed = Stopwatch.StartNew();
        var export = await ExportAsync(http, app, authorization, orgId);
        timed.Stop();
        var peak = app.PeakWorkingSetMiB;
        var rawAfter = await RawReadAsync(audit, ledger, orgId);
        var raw = rawBefore.Seconds <= rawAfter.Seconds ? rawBefore : rawAfter;

        var sizeBytes = export["sizeBytes"]!.GetValue<long>();
        var counts = await ManifestCountsAsync(http, new Uri(export["downloadUrl"]!.GetValue<string>()));
        // The request's own audit event is written as the export starts; the archive may or may not hold it.
        var audited = counts.GetValueOrDefault("audit-events.ndjson") - rows - ownEvents;
        var correct = audited is 0 or 1
            && counts.GetValueOrDefault("ledger-lines.ndjson") == rows
            && counts.GetValueOrDefault("ledger-transactions.ndjson") == rows / 2;
        var seconds = timed.Elapsed.TotalSeconds;
        var megabytesPerSecond = sizeBytes / 1e6 / seconds;
        var appRowsPerSecond = export["items"]!.GetValue<long>() / seconds;
        var ratio = seconds / raw.Seconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  => export ready in {seconds:F2} s: {sizeBytes / 1e6:F1} MB archive at {megabytesPerSecond:F2} MB/s, {appRowsPerSecond:F0} rows/s; " +
            $"raw paged read of the same partitions {raw.Seconds:F2} s ({raw.Rows / raw.Seconds:F0} rows/s); app/raw {ratio:F2}×"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  => working set {workingSetBefore:F0} MiB before, peak {peak:F0} MiB; manifest counts {(correct ? "match the seed" : "WRONG: " + string.Join(", ", counts.Select(c => $"{c.Key}={c.Value}")))}; load {load}"));
        if (!correct)
        {
            throw new InvalidOperationException("The export's manifest does not count what was seeded.");
        }

        return new JsonObject
        {
            ["auditEvents"] = rows,
            ["ledgerLines"] = rows,
            ["seedSeconds"] = Math.Round(seeding.Elapsed.TotalSeconds, 1),
            ["exportSeconds"] = Math.Round(seconds, 2),
            ["archiveBytes"] = sizeBytes,
            ["items"] = export["items"]!.GetValue<long>(),
            ["megabytesPerSecond"] = Math.Round(megabytesPerSecond, 2),
            ["rowsPerSecond"] = Math.Round(appRowsPerSecond, 0),
            ["rawReadSeconds"] = Math.Round(raw.Seconds, 2),
            ["rawRowsPerSecond"] = Math.Round(raw.Rows / raw.Seconds, 0),
            ["appOverRaw"] = Math.Round(ratio, 2),
            ["workingSetBeforeMiB"] = RequestOverheadScenario.Round(workingSetBefore),
            ["peakWorkingSetMiB"] = RequestOverheadScenario.Round(peak),
            ["manifestMatchesSeed"] = correct,
            ["load"] = load,
        };
    }

    /// <summary>Audit events an hour apart, newest first as the log keys them; ledger transactions of two balanced lines.</summary>
    private static async Task SeedAsync(TableClient audit, TableClient ledger, string orgId, int rows, int concurrency)
    {
        var start = DateTimeOffset.UtcNow.AddDays(-400);
        await Parallel.ForEachAsync(Enumerable.Range(0, rows).Chunk(TransactionSize), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (chunk, ct) =>
            await audit.SubmitTransactionAsync(chunk.Select(i =>
            {
                var at = start.AddSeconds(i * 60);
                var id = IdGenerator.Derived("evt", at, $"{orgId}|{i}");
                return new TableTransactionAction(TableTransactionActionType.UpsertReplace, new AuditEventRow
                {
                    PartitionKey = orgId,
                    RowKey = AuditLog.RowKeyFor(at, id),
                    EventId = id,
                    Action = "member.role_changed",
                    ActorKind = "user",
                    ActorId = $"bench-user-{i % 50}",
                    ActorRef = $"user:bench-user-{i % 50}",
                    ActorEmail = $"bench-user-{i % 50}@example.test",
                    TargetType = "member",
                    TargetId = $"bench-member-{i % 200}",
                    OccurredAt = at,
                    Ip = $"203.0.113.{i % 250}",
                    UserAgent = "Mozilla/5.0 (X11; Linux x86_64) RaptorFlowBench/1.0",
                    RequestId = $"00-{i:x32}-{i:x16}-01",
                    Changes = JsonSerializer.Serialize(new Dictionary<string, object> { ["role"] = new { before = "member", after = "admin" } }),
                });
            }), ct));

        // A transaction is its row and two lines; a batch holds whole transactions (33: 99 rows).
        const int TransactionsPerBatch = TransactionSize / 3;
        await Parallel.ForEachAsync(Enumerable.Range(0, rows / 2).Chunk(TransactionsPerBatch), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (chunk, ct) =>
            await ledger.SubmitTransactionAsync(chunk.SelectMany(t =>
            {
                var at = start.AddSeconds(t * 120);
                var transactionId = IdGenerator.Derived("txn", at, $"{orgId}|{t}");
                var amount = 10_000L + (t % 97 * 100);
                return new ITableEntity[]
                {
                    new TransactionRow
                    {
                        PartitionKey = orgId, RowKey = LedgerKeys.Transaction(transactionId), TransactionId = transactionId,
                        IdempotencyKey = $"bench:{t}", Description = "Bench top-up", PostedAt = at, LineCount = 2,
                    },
                    new LineRow
                    {
                        PartitionKey = orgId, RowKey = LedgerKeys.Line(transactionId, 0), TransactionId = transactionId,
                        Account = ChartOfAccounts.RazorpayClearing, Currency = "INR", Debit = amount, PostedAt = at,
                    },
                    new LineRow
                    {
                        PartitionKey = orgId, RowKey = LedgerKeys.Line(transactionId, 1), TransactionId = transactionId,
                        Account = ChartOfAccounts.CustomerCredit, Currency = "INR", Credit = amount, PostedAt = at,
                    },
                };
            }).Select(row => new TableTransactionAction(TableTransactionActionType.UpsertReplace, row)), ct));
    }

    /// <summary>The rows the export reads, paged through raw: the audit partition and the ledger's transactions and lines.</summary>
    private static async Task<(double Seconds, long Rows)> RawReadAsync(TableClient audit, TableClient ledger, string orgId)
    {
        var watch = Stopwatch.StartNew();
        long count = 0;
        foreach (var (table, filter) in new[]
        {
            (audit, TableClient.CreateQueryFilter($"PartitionKey eq {orgId}")),
            (ledger, TableClient.CreateQueryFilter($"PartitionKey eq {orgId} and RowKey ge {LedgerKeys.TransactionPrefix} and RowKey lt {LedgerKeys.After(LedgerKeys.TransactionPrefix)}")),
            (ledger, TableClient.CreateQueryFilter($"PartitionKey eq {orgId} and RowKey ge {LedgerKeys.LinePrefix} and RowKey lt {LedgerKeys.After(LedgerKeys.LinePrefix)}")),
        })
        {
            count += await CountAsync(table, filter);
        }

        return (watch.Elapsed.TotalSeconds, count);
    }

    private static async Task<long> CountAsync(TableClient table, string filter)
    {
        long count = 0;
        await foreach (var page in table.QueryAsync<TableEntity>(filter).AsPages())
        {
            count += page.Values.Count;
        }

        return count;
    }

    /// <summary>Requests the export and polls it until it is ready.</summary>
    private static async Task<JsonObject> ExportAsync(HttpClient http, AppProcess app, AuthenticationHeaderValue authorization, string orgId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(app.BaseAddress, $"/api/v1/orgs/{orgId}/exports")) { Content = JsonContent.Create(new { }) };
        request.Headers.Authorization = authorization;
        request.Headers.Add(IdempotencyMiddleware.KeyHeader, Guid.NewGuid().ToString());
        using var requested = await http.SendAsync(request);
        await LoadContext.EnsureAsync(requested, "request export");
        var status = new Uri(app.BaseAddress, requested.Headers.Location!.ToString());
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var poll = new HttpRequestMessage(HttpMethod.Get, status);
            poll.Headers.Authorization = authorization;
            using var response = await http.SendAsync(poll);
            await LoadContext.EnsureAsync(response, "read export");
            var export = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            switch (export["status"]?.GetValue<string>())
            {
                case ExportStatus.Ready:
                    return export;
                case ExportStatus.Failed:
                    throw new InvalidOperationException($"The export failed: {export["error"]}");
            }

            if (deadline.Elapsed > ExportTimeout)
            {
                throw new TimeoutException($"The export was not ready after {ExportTimeout.TotalMinutes} min ({export["items"]} items written).");
            }

            await Task.Delay(PollingInterval);
        }
    }

    /// <summary>The row count per file of the archive's manifest, the archive streamed to a temporary file first.</summary>
    private static async Task<Dictionary<string, long>> ManifestCountsAsync(HttpClient http, Uri download)
    {
        var path = Path.GetTempFileName();
        try
        {
            await using (var file = File.Create(path))
            await using (var body = await http.GetStreamAsync(download))
            {
                await body.CopyToAsync(file);
            }

            await using var zip = await ZipFile.OpenReadAsync(path);
            await using var manifest = await zip.GetEntry(ExportArchive.ManifestName)!.OpenAsync();
            var parsed = (await JsonSerializer.DeserializeAsync<ExportManifest>(manifest, PrivacyJson.Options))!;
            return parsed.Files.ToDictionary(f => f.Name, f => f.Count, StringComparer.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
