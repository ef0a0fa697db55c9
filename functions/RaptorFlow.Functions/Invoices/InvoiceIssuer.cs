using System.Globalization;
using System.Net;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Credits;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Plans;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Platform.Telemetry;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Functions.Usage;

namespace RaptorFlow.Functions.Invoices;

/// <summary>
/// Closes an org's billing period into one invoice and carries it through its steps, each safe to
/// repeat and each committed with the row's ETag, so concurrent runs and retries converge:
/// <list type="number">
/// <item>claim: the period row and a draft invoice row, inserted together (a second claim fails whole);</item>
/// <item>number and price: the next gap-free number is reserved for the draft's id (a retry finds it), then the draft becomes <c>issued</c> with its lines and totals;</item>
/// <item>post: Dr receivable, Cr revenue, Cr gst_payable, idempotent by <c>invoice:{id}</c>;</item>
/// <item>credit: the org's prepaid credit in the invoice's currency pays it first (Dr customer_credit, Cr receivable, by <c>invoice:{id}:credit</c>), as its own line; an invoice it covers is paid;</item>
/// <item>link: a Razorpay payment link carrying <c>notes.org_id</c> and <c>notes.invoice_id</c>.</item>
/// </list>
/// Until every step is done the row stays <c>Pending</c> and each GenerateInvoices run finishes it; a
/// Razorpay outage delays the link, never the invoice. A void reverses whatever posting exists.
/// </summary>
public sealed partial class InvoiceIssuer(
    InvoiceBook book,
    InvoiceNumbering numbering,
    PostingEngine ledger,
    PrepaidCredit credit,
    RazorpayClient razorpay,
    ISubscriptions subscriptions,
    PlanCatalog plans,
    IUsageTotals usage,
    AuditLog audit,
    IdGenerator ids,
    TimeProvider time,
    IOptions<InvoiceSettings> settings,
    ILogger<InvoiceIssuer> logger)
{
    private static readonly int MaxRounds = ConcurrencyPolicy.Invoice.MaxAttempts;

    /// <summary>How long a run that started creating a payment link owns that step; after it a crashed run's step is taken over.</summary>
    public static readonly TimeSpan LinkLease = TimeSpan.FromMinutes(10);
    private static readonly AuditActor Generator = AuditActor.System("GenerateInvoices");

    public static string PostingKey(string invoiceId) => $"invoice:{invoiceId}";

    public static string ReversalKey(string invoiceId) => $"invoice:{invoiceId}:void";

    public static string CreditKey(string invoiceId) => $"invoice:{invoiceId}:credit";

    public static string CreditReversalKey(string invoiceId) => $"invoice:{invoiceId}:credit:void";

    public static string CreditSurplusKey(string invoiceId) => $"invoice:{invoiceId}:credit:surplus";

    /// <summary>The calendar month (UTC) that closed most recently before <paramref name="now"/>.</summary>
    public static (DateTimeOffset Start, DateTimeOffset End) LastClosedPeriod(DateTimeOffset now)
    {
        var utc = now.ToUniversalTime();
        var end = new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero);
        return (end.AddMonths(-1), end);
    }

    /// <summary>The org's one invoice for the period starting at <paramref name="periodStart"/>, claimed now if nobody has, and carried as far as it can go.</summary>
    public async Task<InvoiceRow> CloseAsync(string orgId, DateTimeOffset periodStart, CancellationToken cancellationToken)
    {
        var periodEnd = periodStart.AddMonths(1);
        var toFinish = await OptimisticConcurrency.RunAsync<InvoiceRow>(
            ConcurrencyPolicy.Invoice,
            async _ =>
            {
                var period = await book.FindPeriodAsync(orgId, periodStart, cancellationToken);
                if (period is not null)
                {
                    return await book.FindAsync(orgId, period.InvoiceId, cancellationToken)
                        ?? throw new InvalidOperationException($"Period {period.RowKey} of {orgId} names invoice {period.InvoiceId}, which does not exist.");
                }

                var now = time.GetUtcNow();
                var invoiceId = ids.New("bill");
                var draft = new InvoiceRow
                {
                    PartitionKey = orgId,
                    RowKey = InvoiceKeys.Invoice(invoiceId),
                    InvoiceId = invoiceId,
                    PeriodStart = periodStart,
                    PeriodEnd = periodEnd,
                    IssuedAt = now,
                };
                // 409: another run claimed the period first; finish its invoice instead.
                await book.Table.SubmitTransactionAsync(
                [
                    new TableTransactionAction(TableTransactionActionType.Add, new PeriodRow { PartitionKey = orgId, RowKey = InvoiceKeys.Period(periodStart), InvoiceId = invoiceId, ClaimedAt = now }),
                    new TableTransactionAction(TableTransactionActionType.Add, draft),
                ], cancellationToken);
                LogClaimed(logger, orgId, InvoiceKeys.Period(periodStart), invoiceId);
                return await book.FindAsync(orgId, invoiceId, cancellationToken) ?? throw new InvalidOperationException($"Claimed invoice {invoiceId} vanished.");
            },
            cancellationToken);
        return await FinishAsync(toFinish, cancellationToken);
    }

    /// <summary>Does the invoice's remaining steps; safe to call from any number of runs at once.</summary>
    public async Task<InvoiceRow> FinishAsync(InvoiceRow row, CancellationToken cancellationToken)
    {
        for (var round = 1; round <= MaxRounds; round++)
        {
            if (!row.Pending)
            {
                return row;
            }

            var step = await NextStepAsync(row, cancellationToken);
            if (step == Step.Deferred)
            {
                return row;
            }

            if (step == Step.Lost)
            {
                // Someone else changed the row: read it again and decide afresh.
                row = await book.FindAsync(row.OrgId, row.InvoiceId, cancellationToken)
                    ?? throw new InvalidOperationException($"Invoice {row.InvoiceId} vanished.");
            }
        }

        throw new InvalidOperationException($"Invoice {row.InvoiceId} kept changing under {MaxRounds} attempts to finish it.");
    }

    /// <summary>Voids an issued, unpaid invoice and reverses its posting. Voiding a void invoice changes nothing.</summary>
    public async Task<InvoiceRow?> VoidAsync(string orgId, string invoiceId, AuditActor actor, string? reason, string? ip, string? requestId, CancellationToken cancellationToken)
    {
        var (voidRow, voidedNow) = await OptimisticConcurrency.RunAsync<(InvoiceRow? Row, bool Voided)>(
            ConcurrencyPolicy.Invoice,
            async _ =>
            {
                var row = await book.FindAsync(orgId, invoiceId, cancellationToken);
                if (row is null || row.IsDraft)
                {
                    return (null, false);
                }

                if (row.ParsedStatus == InvoiceStatus.Void)
                {
                    return (row, false);
                }

                // What prepaid credit paid is given back by the void; money paid otherwise is refunded instead.
                var paidOtherwise = row.AmountPaidMinor - row.CreditAppliedMinor;
                if (row.ParsedStatus == InvoiceStatus.Paid && paidOtherwise > 0)
                {
                    throw new InvoiceNotVoidableException("invoice.paid", $"Invoice {row.Number} is paid; refund the payment instead of voiding it.");
                }

                if (paidOtherwise > 0)
                {
                    throw new InvoiceNotVoidableException("invoice.partly_paid", $"Invoice {row.Number} has payments recorded against it; refund them before voiding.");
                }

                row.Status = InvoiceStatus.Void.ToWire();
                row.VoidedAt = time.GetUtcNow();
                row.VoidedBy = actor.Reference;
                row.VoidReason = reason;
                row.Pending = true;
                return await book.TryReplaceAsync(row, EventTypes.InvoiceVoided, cancellationToken) ? (row, true) : Attempt.LostRace<(InvoiceRow?, bool)>();
            },
            cancellationToken,
            exhausted: () => throw new InvalidOperationException($"Invoice {invoiceId} kept changing under {ConcurrencyPolicy.Invoice.MaxAttempts} attempts to void it."));
        if (voidRow is null)
        {
            return null;
        }

        if (voidedNow)
        {
            LogVoided(logger, orgId, invoiceId, voidRow.Number);
            await audit.RecordAsync(orgId, actor, new AuditEntry("invoice.voided", "invoice", invoiceId, new Dictionary<string, AuditChange>
            {
                ["status"] = new(InvoiceStatus.Issued.ToWire(), InvoiceStatus.Void.ToWire()),
                ["reason"] = new(null, reason),
            }), ip, requestId);
        }

        return await FinishAsync(voidRow, cancellationToken);
    }

    private enum Step
    {
        /// <summary>A step was committed; go on.</summary>
        Done,

        /// <summary>The row changed under us; read it again.</summary>
        Lost,

        /// <summary>Another run owns the next step, or Razorpay is unavailable: a later run finishes it.</summary>
        Deferred,
    }

    /// <summary>Takes the first step left and commits it with the row's ETag.</summary>
    private async Task<Step> NextStepAsync(InvoiceRow row, CancellationToken cancellationToken)
    {
        if (row.IsDraft)
        {
            return Committed(await IssueAsync(row, cancellationToken));
        }

        if (row.ParsedStatus == InvoiceStatus.Void)
        {
            return await VoidStepAsync(row, cancellationToken);
        }

        if (row.TotalMinor > 0 && row.LedgerTransactionId is null)
        {
            var posted = await PostAsync(row, cancellationToken);
            row.LedgerTransactionId = posted;
            if (await book.TryReplaceAsync(row, cancellationToken))
            {
                return Step.Done;
            }

            // A void may have committed while this posting was on its way, after the void looked for
            // it and found none: re-check now that it has committed, and reverse it if so.
            await ReverseIfVoidAsync(row.OrgId, row.InvoiceId, posted, cancellationToken);
            return Step.Lost;
        }

        // Paid too: a payment may have settled the invoice after a run drew credit for it and before
        // that run recorded the drawing; the drawing is then recorded, and all of it returned.
        if (row.ParsedStatus is InvoiceStatus.Issued or InvoiceStatus.Paid && row.TotalMinor > 0 && row.CreditCheckedAt is null)
        {
            return await ApplyCreditAsync(row, cancellationToken);
        }

        if (row.CreditSurplusMinor > 0 && row.CreditSurplusTransactionId is null)
        {
            var returned = await ledger.PostAsync(new PostingBatch(row.OrgId, CreditSurplusKey(row.InvoiceId),
                $"Prepaid credit drawn for invoice {row.Number} beyond what was due",
                [
                    PostingLine.Dr(ChartOfAccounts.Receivable, row.Currency, row.CreditSurplusMinor, $"Invoice {row.Number}"),
                    PostingLine.Cr(ChartOfAccounts.CustomerCredit, row.Currency, row.CreditSurplusMinor, $"Not needed by invoice {row.Number}"),
                ]), cancellationToken);
            row.CreditSurplusTransactionId = returned.TransactionId;
            return Committed(await book.TryReplaceAsync(row, cancellationToken));
        }

        if (row.ParsedStatus == InvoiceStatus.Issued && row.TotalMinor > 0 && row.PaymentLinkId is null && row.PaymentLinkError is null)
        {
            return await AttachPaymentLinkAsync(row, cancellationToken);
        }

        // Issued once every step is done, so the event carries the posting's effects and the payment link.
        row.Pending = false;
        return Committed(await book.TryReplaceAsync(row, EventTypes.InvoiceIssued, cancellationToken));
    }

    private static Step Committed(bool committed) => committed ? Step.Done : Step.Lost;

    private async Task<bool> IssueAsync(InvoiceRow row, CancellationToken cancellationToken)
    {
        // Priced before the number is taken, so a pricing failure leaves a draft and no number.
        // The plans are those in effect during the period, whatever changed since it ended.
        var history = await subscriptions.GetPlanHistoryAsync(row.OrgId, cancellationToken);
        var inEffect = PlanHistory.During(history, plans.Default.Id, row.PeriodStart, row.PeriodEnd)
            .Select(c => new PlanInEffect(c.EffectiveFrom, plans.TryGet(c.PlanId, out var p) ? p : plans.Default, !c.FeeCollectedByRazorpay))
            .ToList();
        var plan = InvoiceCalculation.DaysByPlan(inEffect, row.PeriodStart, row.PeriodEnd)[^1].Plan.Plan;
        // Events of the period accepted after the last RollupUsage run (a late batch, a missed timer) are billed too.
        await usage.RollUpPendingAsync(row.OrgId, row.PeriodStart, row.PeriodEnd, cancellationToken);
        var totals = await usage.GetTotalsAsync(row.OrgId, row.PeriodStart, row.PeriodEnd, cancellationToken);
        var (prior, billed) = await LateUsageAsync(row, cancellationToken);
        billed.Add(new BilledUsage(row.PeriodStart, plan.Id, new Dictionary<string, long>(totals, StringComparer.Ordinal)));
        var amounts = InvoiceCalculation.Calculate(inEffect, row.PeriodStart, row.PeriodEnd, totals, prior);

        var financialYear = FinancialYear.Of(row.IssuedAt);
        var number = await numbering.NumberAsync(settings.Value.NumberSeries, financialYear, row.InvoiceId, row.OrgId, cancellationToken);

        row.Status = InvoiceStatus.Issued.ToWire();
        row.Number = number;
        row.FinancialYear = financialYear;
        row.PlanId = plan.Id;
        row.PlanName = plan.Name;
        row.Currency = amounts.Currency;
        row.Lines = InvoiceBook.SerializeLines(amounts.Lines);
        row.UsageBilled = JsonSerializer.Serialize(billed, InvoiceBook.LineJson);
        row.SubtotalMinor = amounts.SubtotalMinor;
        row.TaxMinor = amounts.TaxMinor;
        row.TotalMinor = amounts.TotalMinor;
        if (!await book.TryReplaceAsync(row, cancellationToken))
        {
            return false;
        }

        LogIssued(logger, row.OrgId, row.InvoiceId, number, row.TotalMinor, row.Currency);
        AppMetrics.Count(AppMetrics.InvoicesIssued, "currency", row.Currency);
        AppMetrics.Count(AppMetrics.AmountInvoiced, "currency", row.Currency, row.TotalMinor);
        await audit.RecordAsync(row.OrgId, Generator, new AuditEntry("invoice.issued", "invoice", row.InvoiceId, new Dictionary<string, AuditChange>
        {
            ["number"] = new(null, number),
            ["period"] = new(null, row.PeriodStart.ToString("yyyy-MM", CultureInfo.InvariantCulture)),
            ["totalMinor"] = new(null, row.TotalMinor.ToString(CultureInfo.InvariantCulture)),
            ["currency"] = new(null, row.Currency),
        }));
        return true;
    }

    /// <summary>
    /// Usage of the two periods before this one that arrived after their invoices (an event may be
    /// 35 days old, so no earlier period can still change): what it is now against the most any
    /// earlier invoice recorded as billed. Returns those lines' inputs and the new records.
    /// </summary>
    private async Task<(List<PriorPeriodUsage> Prior, List<BilledUsage> Billed)> LateUsageAsync(InvoiceRow row, CancellationToken cancellationToken)
    {
        var records = new Dictionary<DateTimeOffset, BilledUsage>();
        for (var back = 2; back >= 1; back--)
        {
            if (await book.FindPeriodAsync(row.OrgId, row.PeriodStart.AddMonths(-back), cancellationToken) is not { } period)
            {
                continue;
            }

            var earlier = await book.FindAsync(row.OrgId, period.InvoiceId, cancellationToken)
                ?? throw new InvalidOperationException($"Period {period.RowKey} of {row.OrgId} names invoice {period.InvoiceId}, which does not exist.");
            if (earlier.IsDraft)
            {
                // What it bills decides what this one may bill; the next run issues it first.
                throw new InvalidOperationException($"Invoice {earlier.InvoiceId} of {row.OrgId} for an earlier period is not issued yet.");
            }

            // Oldest first, so a later invoice's record of a period replaces an earlier one's (records only grow).
            foreach (var record in earlier.UsageBilled is null ? [] : JsonSerializer.Deserialize<List<BilledUsage>>(earlier.UsageBilled, InvoiceBook.LineJson) ?? [])
            {
                if (record.PeriodStart >= row.PeriodStart.AddMonths(-2) && record.PeriodStart < row.PeriodStart)
                {
                    records[record.PeriodStart] = record;
                }
            }
        }

        var prior = new List<PriorPeriodUsage>();
        var billed = new List<BilledUsage>();
        foreach (var record in records.Values.OrderBy(r => r.PeriodStart))
        {
            var end = record.PeriodStart.AddMonths(1);
            await usage.RollUpPendingAsync(row.OrgId, record.PeriodStart, end, cancellationToken);
            var now = await usage.GetTotalsAsync(row.OrgId, record.PeriodStart, end, cancellationToken);
            prior.Add(new PriorPeriodUsage(record.PeriodStart, plans.TryGet(record.PlanId, out var p) ? p : plans.Default, record.Quantities, now));
            var quantities = new Dictionary<string, long>(record.Quantities, StringComparer.Ordinal);
            foreach (var (meter, quantity) in now)
            {
                quantities[meter] = Math.Max(quantity, quantities.GetValueOrDefault(meter));
            }

            billed.Add(record with { Quantities = quantities });
        }

        return (prior, billed);
    }

    private async Task<string> PostAsync(InvoiceRow row, CancellationToken cancellationToken)
    {
        var lines = new List<PostingLine>
        {
            PostingLine.Dr(ChartOfAccounts.Receivable, row.Currency, row.TotalMinor, $"Invoice {row.Number}"),
            PostingLine.Cr(ChartOfAccounts.Revenue, row.Currency, row.SubtotalMinor, $"Invoice {row.Number}"),
        };
        if (row.TaxMinor > 0)
        {
            lines.Add(PostingLine.Cr(ChartOfAccounts.GstPayable, row.Currency, row.TaxMinor, $"GST on invoice {row.Number}"));
        }

        var result = await ledger.PostAsync(new PostingBatch(row.OrgId, PostingKey(row.InvoiceId), $"Invoice {row.Number} issued", lines), cancellationToken);
        return result.TransactionId;
    }

    /// <summary>
    /// Pays what is due from the org's prepaid credit, at most what it holds. The drawing is found by
    /// its key on a retry, so a run that lost the row's write (or crashed) records the same amount; a
    /// void that won the row reverses it (<see cref="VoidStepAsync"/>).
    /// </summary>
    private async Task<Step> ApplyCreditAsync(InvoiceRow row, CancellationToken cancellationToken)
    {
        var key = CreditKey(row.InvoiceId);
        var drawing = await credit.DrawAsync(row.OrgId, key, row.Currency, row.AmountDueMinor, drawn => drawn <= 0 ? null : new PostingBatch(row.OrgId, key,
            $"Prepaid credit applied to invoice {row.Number}",
            [
                PostingLine.Dr(ChartOfAccounts.CustomerCredit, row.Currency, drawn, $"Invoice {row.Number}"),
                PostingLine.Cr(ChartOfAccounts.Receivable, row.Currency, drawn, $"Prepaid credit on invoice {row.Number}"),
            ]), cancellationToken);
        var now = time.GetUtcNow();
        row.CreditCheckedAt = now;
        if (drawing.DrawnMinor <= 0)
        {
            return Committed(await book.TryReplaceAsync(row, cancellationToken));
        }

        // A payment applied after the draw leaves less due than was drawn: the invoice takes what is
        // due (decided under the row's ETag, so no payment slips in), the rest goes back to credit.
        var applied = Math.Min(drawing.DrawnMinor, row.AmountDueMinor);
        row.CreditTransactionId = drawing.TransactionId;
        row.CreditSurplusMinor = drawing.DrawnMinor - applied;
        if (applied <= 0)
        {
            return Committed(await book.TryReplaceAsync(row, cancellationToken));
        }

        row.CreditAppliedMinor = applied;
        row.AmountPaidMinor = checked(row.AmountPaidMinor + applied);
        row.Lines = InvoiceBook.SerializeLines([.. InvoiceBook.LinesOf(row),
            new InvoiceLine(InvoiceLineKind.CreditApplied, "Prepaid credit applied", 1, -applied, -applied)]);
        if (row.AmountPaidMinor >= row.TotalMinor)
        {
            row.Status = InvoiceStatus.Paid.ToWire();
            row.PaidAt = now;
            LogPaidByCredit(logger, row.OrgId, row.InvoiceId, applied);
            return Committed(await book.TryReplaceAsync(row, EventTypes.InvoicePaid, cancellationToken));
        }

        return Committed(await book.TryReplaceAsync(row, cancellationToken));
    }

    /// <summary>The void's steps: give back prepaid credit it took, reverse the posting, then cancel the payment link so it cannot be paid.</summary>
    private async Task<Step> VoidStepAsync(InvoiceRow row, CancellationToken cancellationToken)
    {
        // Looked up by key, not only on the row: a run that posted just before the void committed
        // has not written the transaction id, and its own conditional write will fail and bring it here.
        var credited = row.CreditTransactionId ?? await ledger.FindTransactionIdAsync(row.OrgId, CreditKey(row.InvoiceId), cancellationToken);
        if (credited is not null && row.CreditReversalTransactionId is null)
        {
            var giveBack = await ledger.ReverseAsync(row.OrgId, credited, CreditReversalKey(row.InvoiceId), $"invoice {row.Number} voided; prepaid credit returned", cancellationToken);
            row.CreditTransactionId = credited;
            row.CreditReversalTransactionId = giveBack.TransactionId;
            return Committed(await book.TryReplaceAsync(row, cancellationToken));
        }

        var posted = row.LedgerTransactionId ?? await ledger.FindTransactionIdAsync(row.OrgId, PostingKey(row.InvoiceId), cancellationToken);
        if (posted is not null && row.ReversalTransactionId is null)
        {
            var reversal = await ledger.ReverseAsync(row.OrgId, posted, ReversalKey(row.InvoiceId), $"invoice {row.Number} voided", cancellationToken);
            row.LedgerTransactionId = posted;
            row.ReversalTransactionId = reversal.TransactionId;
            return Committed(await book.TryReplaceAsync(row, cancellationToken));
        }

        // A link exists, or may (a run asked Razorpay for one and may not have recorded its answer).
        if (row.PaymentLinkCancelledAt is null && (row.PaymentLinkId is not null || row.LinkClaimedAt is not null))
        {
            return await CancelPaymentLinkAsync(row, cancellationToken);
        }

        row.Pending = false;
        return Committed(await book.TryReplaceAsync(row, cancellationToken));
    }

    /// <summary>Reverses a posting that committed after its invoice was voided (the void found no posting to reverse).</summary>
    private async Task ReverseIfVoidAsync(string orgId, string invoiceId, string posted, CancellationToken cancellationToken)
    {
        await OptimisticConcurrency.RunAsync(
            ConcurrencyPolicy.Invoice,
            async _ =>
            {
                var row = await book.FindAsync(orgId, invoiceId, cancellationToken);
                if (row is null || row.ParsedStatus != InvoiceStatus.Void || row.ReversalTransactionId is not null)
                {
                    return true;
                }

                var reversal = await ledger.ReverseAsync(orgId, posted, ReversalKey(invoiceId), $"invoice {row.Number} voided", cancellationToken);
                row.LedgerTransactionId = posted;
                row.ReversalTransactionId = reversal.TransactionId;
                if (!await book.TryReplaceAsync(row, cancellationToken))
                {
                    return false;
                }

                LogLateReversal(logger, orgId, invoiceId, reversal.TransactionId);
                return true;
            },
            cancellationToken,
            exhausted: () => { });
    }

    /// <summary>
    /// Cancels the void invoice's payment links: the one recorded, or those Razorpay holds under the
    /// invoice's reference id. Razorpay refuses to cancel a link that is paid, cancelled or expired
    /// (400): nothing is left to cancel. A payment that reached the link before the cancel is the
    /// org's customer_credit. Razorpay unavailable: a later run cancels it.
    /// </summary>
    private async Task<Step> CancelPaymentLinkAsync(InvoiceRow row, CancellationToken cancellationToken)
    {
        try
        {
            var links = row.PaymentLinkId is { } recorded
                ? [recorded]
                : (await razorpay.FindPaymentLinksAsync(row.InvoiceId, cancellationToken)).Select(l => l.Id).ToList();
            foreach (var linkId in links)
            {
                try
                {
                    await razorpay.CancelPaymentLinkAsync(linkId, cancellationToken);
                    LogLinkCancelled(logger, row.InvoiceId, linkId);
                }
                catch (RazorpayApiException ex) when (ex.Status == HttpStatusCode.BadRequest)
                {
                    LogLinkNotCancellable(logger, row.InvoiceId, linkId, ex.Code, ex.Description);
                }
            }

            row.PaymentLinkCancelledAt = time.GetUtcNow();
            row.LastLinkFailure = null;
            return Committed(await book.TryReplaceAsync(row, CancellationToken.None));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            row.LastLinkFailure = ex is RazorpayApiException api ? $"{(int)api.Status} {api.Code}" : ex.GetType().Name;
            LogLinkFailed(logger, ex, row.InvoiceId);
            return await book.TryReplaceAsync(row, CancellationToken.None) ? Step.Deferred : Step.Lost;
        }
    }

    /// <summary>
    /// Takes the link step's lease first (an ETag write), so of concurrent runs only one asks
    /// Razorpay; a run that crashes mid-call leaves at most one unpaid link, and the step is taken
    /// over once the lease expires.
    /// </summary>
    private async Task<Step> AttachPaymentLinkAsync(InvoiceRow row, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (row.LinkClaimedAt is { } claimed && now - claimed < LinkLease)
        {
            return Step.Deferred;
        }

        row.LinkClaimedAt = now;
        if (!await book.TryReplaceAsync(row, cancellationToken))
        {
            return Step.Lost;
        }

        var notes = new Dictionary<string, string>
        {
            ["org_id"] = row.OrgId,
            ["invoice_id"] = row.InvoiceId,
            ["invoice_number"] = row.Number!,
        };
        var deferred = false;
        RazorpayPaymentLink? created = null;
        try
        {
            created = await CreateOrFindPaymentLinkAsync(row, notes, cancellationToken);
            if (created is not null)
            {
                row.PaymentLinkId = created.Id;
                row.PaymentUrl = created.ShortUrl;
                row.LastLinkFailure = null;
                LogLinked(logger, row.InvoiceId, created.Id);
                AppMetrics.Count(AppMetrics.PaymentLinks, "outcome", "created");
            }
        }
        catch (RazorpayApiException ex) when (ex.Status is HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity)
        {
            // Razorpay refuses the request itself (e.g. below its minimum amount): asking again gives the same answer.
            row.PaymentLinkError = $"{ex.Code}: {ex.Description}";
            LogLinkRefused(logger, row.InvoiceId, ex.Code, ex.Description);
            AppMetrics.Count(AppMetrics.PaymentLinks, "outcome", "refused");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Razorpay unavailable, or no credentials yet: the invoice stands, the next run asks again.
            row.LastLinkFailure = ex is RazorpayApiException api ? $"{(int)api.Status} {api.Code}" : ex.GetType().Name;
            row.LinkClaimedAt = null;
            deferred = true;
            LogLinkFailed(logger, ex, row.InvoiceId);
            AppMetrics.Count(AppMetrics.PaymentLinks, "outcome", "failed");
        }

        var committed = await book.TryReplaceAsync(row, CancellationToken.None);
        if (!committed && created is not null)
        {
            await KeepLinkOfVoidInvoiceAsync(row.OrgId, row.InvoiceId, created, cancellationToken);
        }

        return !committed ? Step.Lost : deferred ? Step.Deferred : Step.Done;
    }

    /// <summary>
    /// Creates the invoice's link with <c>reference_id</c> = the invoice id, so a creation retried
    /// after a timeout (whose first attempt Razorpay did carry out) cannot leave two payable links:
    /// Razorpay refuses the duplicate reference, and the link it holds under it is the invoice's.
    /// </summary>
    private async Task<RazorpayPaymentLink?> CreateOrFindPaymentLinkAsync(InvoiceRow row, Dictionary<string, string> notes, CancellationToken cancellationToken)
    {
        try
        {
            return await razorpay.CreatePaymentLinkAsync(
                new CreatePaymentLinkRequest(row.AmountDueMinor, row.Currency, $"{settings.Value.SellerName} invoice {row.Number}", ReferenceId: row.InvoiceId, Notes: notes),
                cancellationToken);
        }
        catch (RazorpayApiException ex) when (ex.Status == HttpStatusCode.BadRequest)
        {
            var existing = (await razorpay.FindPaymentLinksAsync(row.InvoiceId, cancellationToken)).FirstOrDefault(l => l.ReferenceId == row.InvoiceId);
            if (existing is null)
            {
                throw;
            }

            LogLinkFound(logger, row.InvoiceId, existing.Id);
            return existing;
        }
    }

    /// <summary>A link created while the invoice was being voided: recorded on the void invoice, whose next step cancels it.</summary>
    private async Task KeepLinkOfVoidInvoiceAsync(string orgId, string invoiceId, RazorpayPaymentLink link, CancellationToken cancellationToken)
    {
        await OptimisticConcurrency.RunAsync(
            ConcurrencyPolicy.Invoice,
            async _ =>
            {
                var row = await book.FindAsync(orgId, invoiceId, cancellationToken);
                if (row is null || row.ParsedStatus != InvoiceStatus.Void || row.PaymentLinkId == link.Id)
                {
                    return true;
                }

                row.PaymentLinkId = link.Id;
                row.PaymentLinkCancelledAt = null;
                row.Pending = true;
                return await book.TryReplaceAsync(row, cancellationToken);
            },
            cancellationToken,
            exhausted: () => { });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Claimed {Period} of {OrgId} for invoice {InvoiceId}")]
    private static partial void LogClaimed(ILogger logger, string orgId, string period, string invoiceId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Issued invoice {InvoiceId} ({Number}) to {OrgId}: {TotalMinor} {Currency}")]
    private static partial void LogIssued(ILogger logger, string orgId, string invoiceId, string number, long totalMinor, string currency);

    [LoggerMessage(Level = LogLevel.Information, Message = "Attached payment link {PaymentLinkId} to invoice {InvoiceId}")]
    private static partial void LogLinked(ILogger logger, string invoiceId, string paymentLinkId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Razorpay refused a payment link for invoice {InvoiceId}: {Code} {Description}")]
    private static partial void LogLinkRefused(ILogger logger, string invoiceId, string code, string description);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not create the payment link of invoice {InvoiceId}; the next run retries")]
    private static partial void LogLinkFailed(ILogger logger, Exception exception, string invoiceId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Invoice {InvoiceId} already had payment link {PaymentLinkId} under its reference id; kept it")]
    private static partial void LogLinkFound(ILogger logger, string invoiceId, string paymentLinkId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Cancelled payment link {PaymentLinkId} of void invoice {InvoiceId}")]
    private static partial void LogLinkCancelled(ILogger logger, string invoiceId, string paymentLinkId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment link {PaymentLinkId} of void invoice {InvoiceId} cannot be cancelled: {Code} {Description}")]
    private static partial void LogLinkNotCancellable(ILogger logger, string invoiceId, string paymentLinkId, string code, string description);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Invoice {InvoiceId} of {OrgId} was voided while it was being posted; reversed the posting as {TransactionId}")]
    private static partial void LogLateReversal(ILogger logger, string orgId, string invoiceId, string transactionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Invoice {InvoiceId} of {OrgId} paid in full by {AmountMinor} of prepaid credit")]
    private static partial void LogPaidByCredit(ILogger logger, string orgId, string invoiceId, long amountMinor);

    [LoggerMessage(Level = LogLevel.Information, Message = "Voided invoice {InvoiceId} ({Number}) of {OrgId}")]
    private static partial void LogVoided(ILogger logger, string orgId, string invoiceId, string? number);
}
