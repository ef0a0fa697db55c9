using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Invoices;

/// <summary>
/// Daily timer: for every org that existed during the month that last closed (UTC), finishes any
/// invoice with work left and closes that month into its invoice. Re-running it, or running it on
/// two instances at once, issues nothing twice: the period claim is insert-if-absent.
/// </summary>
public sealed partial class GenerateInvoices(
    StorageAccount storage,
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
            // Every other org was still closed; the failed ones are retried by the next run.
            throw new InvalidOperationException($"GenerateInvoices could not close {summary.Failed} of {summary.Orgs} orgs; see the log.");
        }
    }

    public async Task<GenerateInvoicesSummary> RunOnceAsync(CancellationToken cancellationToken)
    {
        var (start, end) = InvoiceIssuer.LastClosedPeriod(time.GetUtcNow());
        var orgs = 0;
        var failed = 0;
        var options = new ParallelOptions { MaxDegreeOfParallelism = settings.Value.Concurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(BillableOrgsAsync(start, end, cancellationToken), options, async (orgId, ct) =>
        {
            Interlocked.Increment(ref orgs);
            try
            {
                await CloseOrgAsync(orgId, start, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                Interlocked.Increment(ref failed);
                LogOrgFailed(logger, ex, orgId, start);
            }
        });

        LogRun(logger, start, orgs, failed);
        return new GenerateInvoicesSummary(start, orgs, failed);
    }

    /// <summary>Finishes the org's pending invoices, then closes <paramref name="periodStart"/>'s month.</summary>
    public async Task<InvoiceRow> CloseOrgAsync(string orgId, DateTimeOffset periodStart, CancellationToken cancellationToken)
    {
        // Only earlier or equal periods: a later period's pending invoice belongs to a run whose
        // clock has passed that period's end, and that run (or the next) finishes it.
        foreach (var pending in (await book.PendingAsync(orgId, cancellationToken)).Where(p => p.PeriodStart <= periodStart))
        {
            await issuer.FinishAsync(pending, cancellationToken);
        }

        return await issuer.CloseAsync(orgId, periodStart, cancellationToken);
    }

    /// <summary>Orgs created before the period ended and not deleted before it began.</summary>
    private async IAsyncEnumerable<string> BillableOrgsAsync(DateTimeOffset start, DateTimeOffset end, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"RowKey eq {OrgTable.OrgRowKey} and CreatedAt lt {end}");
        var select = new[] { nameof(OrgRow.PartitionKey), nameof(OrgRow.RowKey), nameof(OrgRow.CreatedAt), nameof(OrgRow.DeletedAt) };
        await foreach (var org in storage.Table(OrgTable.Name).QueryAsync<OrgRow>(filter, select: select, cancellationToken: cancellationToken))
        {
            if (org.DeletedAt is null || org.DeletedAt >= start)
            {
                yield return org.OrgId;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not close the period starting {PeriodStart} for org {OrgId}")]
    private static partial void LogOrgFailed(ILogger logger, Exception exception, string orgId, DateTimeOffset periodStart);

    [LoggerMessage(Level = LogLevel.Information, Message = "GenerateInvoices closed the period starting {PeriodStart} for {Orgs} orgs ({Failed} failed)")]
    private static partial void LogRun(ILogger logger, DateTimeOffset periodStart, int orgs, int failed);
}

public sealed record GenerateInvoicesSummary(DateTimeOffset PeriodStart, int Orgs, int Failed);
