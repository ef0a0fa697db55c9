using System.Text.Json;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Telemetry;

namespace RaptorFlow.Functions.Invoices;

/// <summary>The queue GenerateInvoices fans out on (<c>Invoices:CloseQueue</c>, default <c>close-org-period</c>).</summary>
public sealed record CloseOrgPeriodQueue(string Name)
{
    public const string Default = "close-org-period";

    internal static readonly JsonSerializerOptions MessageJson = new(JsonSerializerDefaults.Web) { TypeInfoResolver = ApiJsonContext.WithReflectionFallback };
}

/// <summary>One org's month to close (and its unfinished invoices up to that month to finish).</summary>
public sealed record CloseOrgPeriodMessage(string OrgId, DateTimeOffset PeriodStart);

/// <summary>
/// Queue function on <c>close-org-period</c>: finishes the org's unfinished invoices, and, while the
/// billing index still lists the org as due in the month, closes the month into its invoice, carries
/// the org into the next month unless it was deleted before that began, and settles the index row.
/// Every step is idempotent (the period claim is insert-if-absent), so duplicate and concurrent
/// deliveries issue one invoice.
/// </summary>
public sealed partial class CloseOrgPeriod(
    GenerateInvoices invoices,
    BillingIndex index,
    InvoiceBook book,
    OrgDirectory orgs,
    ILogger<CloseOrgPeriod> logger) : IQueueFunction
{
    public const string FunctionName = "CloseOrgPeriod";

    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        var work = message.TryReadJson<CloseOrgPeriodMessage>(CloseOrgPeriodQueue.MessageJson);

        if (work is not { OrgId.Length: > 0 })
        {
            // Not written by us; retrying cannot help.
            LogUnreadable(logger, message.MessageId);
            return;
        }

        var (orgId, periodStart) = (work.OrgId, work.PeriodStart);
        using var unit = UnitOfWork.ForOrg(logger, "close org period", orgId);
        unit.Activity?.SetTag("raptorflow.period_start", periodStart.ToString("O"));

        string? invoiceId;
        try
        {
            invoiceId = await CloseAsync(orgId, periodStart, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            AppMetrics.Count(AppMetrics.InvoiceCloseFailures, "stage", "close");
            throw;
        }

        LogClosed(logger, orgId, periodStart, invoiceId, message.DequeueCount);
    }

    private async Task<string?> CloseAsync(string orgId, DateTimeOffset periodStart, CancellationToken cancellationToken)
    {
        string? invoiceId = null;
        if (await index.IsDueAsync(orgId, periodStart, cancellationToken))
        {
            // No org row: the leftover of a create that failed after entering the index.
            if (await orgs.FindAsync(orgId, cancellationToken) is { } org && BillingIndex.IsBillable(org, periodStart))
            {
                var invoice = await invoices.CloseOrgAsync(orgId, periodStart, cancellationToken);
                invoiceId = invoice.InvoiceId;
                if (invoice.Pending)
                {
                    // A step could not finish (Razorpay down, say): a later run finishes it.
                    await index.MarkPendingAsync(orgId, cancellationToken);
                }

                var next = periodStart.AddMonths(1);
                if (BillingIndex.IsBillable(org, next))
                {
                    await index.AddAsync(orgId, next, cancellationToken);
                }
            }

            await index.SettleAsync(orgId, periodStart, cancellationToken);
        }
        else
        {
            // Closed already (a duplicate delivery), or listed only for an unfinished invoice.
            await invoices.FinishPendingAsync(orgId, periodStart, cancellationToken);
        }

        await index.ClearPendingIfFinishedAsync(orgId, async () => (await book.PendingAsync(orgId, cancellationToken)).Count > 0, cancellationToken);

        return invoiceId;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "CloseOrgPeriod for org {OrgId}, period starting {PeriodStart}: invoice {InvoiceId} (dequeue {DequeueCount})")]
    private static partial void LogClosed(ILogger logger, string orgId, DateTimeOffset periodStart, string? invoiceId, long dequeueCount);

    [LoggerMessage(Level = LogLevel.Error, Message = "Queue message {MessageId} on the close-org-period queue is not a CloseOrgPeriod message; completed without closing")]
    private static partial void LogUnreadable(ILogger logger, string? messageId);
}
