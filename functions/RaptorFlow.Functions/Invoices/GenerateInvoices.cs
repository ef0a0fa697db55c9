using System.Text.Json;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Platform.Telemetry;

namespace RaptorFlow.Functions.Invoices;

/// <summary>
/// Daily timer: decides what is due and enqueues one <see cref="CloseOrgPeriod"/> message per org the
/// billing index lists for the month that last closed (UTC), and per org with an unfinished invoice.
/// The queue function does the work; re-running the timer, or running it on two instances at once,
/// only enqueues duplicates, which close nothing twice.
/// </summary>
public sealed partial class GenerateInvoices(
    StorageAccount storage,
    CloseOrgPeriodQueue queue,
    BillingIndex index,
    InvoiceIssuer issuer,
    InvoiceBook book,
    TimeProvider time,
    IOptions<InvoiceSettings> settings,
    ILogger<GenerateInvoices> logger) : ITimerFunction
{
    public const string FunctionName = "GenerateInvoices";

    /// <summary>Daily at 00:30 UTC (06:00 IST), half an hour after the month's last period closes.</summary>
    public const string Schedule = "0 30 0 * * *";

    public async Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken)
    {
        var summary = await RunOnceAsync(cancellationToken);
        if (summary.Failed > 0)
        {
            // Every other org was enqueued; the failed ones are enqueued again by the next run.
            throw new InvalidOperationException($"GenerateInvoices could not enqueue {summary.Failed} of {summary.Orgs} orgs; see the log.");
        }
    }

    public async Task<GenerateInvoicesSummary> RunOnceAsync(CancellationToken cancellationToken)
    {
        var (start, _) = InvoiceIssuer.LastClosedPeriod(time.GetUtcNow());
        var backfilled = await index.BackfillOnceAsync(start, cancellationToken);

        var due = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var orgId in index.DueAsync(start, cancellationToken))
        {
            due.Add(orgId);
        }

        await foreach (var orgId in index.PendingOrgsAsync(cancellationToken))
        {
            due.Add(orgId);
        }

        var failed = 0;
        var options = new ParallelOptions { MaxDegreeOfParallelism = settings.Value.Concurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(due, options, async (orgId, ct) =>
        {
            try
            {
                var text = JsonSerializer.Serialize(new CloseOrgPeriodMessage(orgId, start), CloseOrgPeriodQueue.MessageJson);
                await storage.Queue(queue.Name).SendMessageAsync(text, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                Interlocked.Increment(ref failed);
                LogOrgFailed(logger, ex, orgId, start);
                AppMetrics.Count(AppMetrics.InvoiceCloseFailures, "stage", "enqueue");
            }
        });

        LogRun(logger, start, due.Count, failed, backfilled);
        return new GenerateInvoicesSummary(start, due.Count, failed);
    }

    /// <summary>Finishes the org's pending invoices, then closes <paramref name="periodStart"/>'s month.</summary>
    public async Task<InvoiceRow> CloseOrgAsync(string orgId, DateTimeOffset periodStart, CancellationToken cancellationToken)
    {
        await FinishPendingAsync(orgId, periodStart, cancellationToken);
        return await issuer.CloseAsync(orgId, periodStart, cancellationToken);
    }

    /// <summary>Finishes the org's pending invoices of months up to <paramref name="periodStart"/>'s.</summary>
    public async Task FinishPendingAsync(string orgId, DateTimeOffset periodStart, CancellationToken cancellationToken)
    {
        // Only earlier or equal periods: a later period's pending invoice belongs to a run whose
        // clock has passed that period's end, and that run (or the next) finishes it.
        foreach (var pending in (await book.PendingAsync(orgId, cancellationToken)).Where(p => p.PeriodStart <= periodStart))
        {
            await issuer.FinishAsync(pending, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not enqueue the close of the period starting {PeriodStart} for org {OrgId}")]
    private static partial void LogOrgFailed(ILogger logger, Exception exception, string orgId, DateTimeOffset periodStart);

    [LoggerMessage(Level = LogLevel.Information, Message = "GenerateInvoices enqueued the close of the period starting {PeriodStart} for {Orgs} orgs ({Failed} failed; {Backfilled} index rows backfilled)")]
    private static partial void LogRun(ILogger logger, DateTimeOffset periodStart, int orgs, int failed, int backfilled);
}

/// <summary>A GenerateInvoices run: the month it closes, the orgs it enqueued, and how many enqueues failed.</summary>
public sealed record GenerateInvoicesSummary(DateTimeOffset PeriodStart, int Orgs, int Failed);
