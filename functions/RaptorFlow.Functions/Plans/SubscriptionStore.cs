using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Plans;

/// <summary>Reads and writes subscription rows; every write is conditional on the ETag it read.</summary>
public sealed class SubscriptionStore(StorageAccount storage, PlanCatalog plans, EventOutbox outbox, TimeProvider time) : ISubscriptions
{
    public TableClient Table => storage.Table(SubscriptionRow.TableName);

    public async Task<OrgSubscription> GetAsync(string orgId, CancellationToken cancellationToken) =>
        ToSubscription(orgId, await FindAsync(orgId, cancellationToken));

    public async Task<SubscriptionRow?> FindAsync(string orgId, CancellationToken cancellationToken)
    {
        var found = await Table.GetEntityIfExistsAsync<SubscriptionRow>(orgId, SubscriptionRow.CurrentRowKey, cancellationToken: cancellationToken);
        if (!found.HasValue)
        {
            return null;
        }

        var row = found.Value!;
        if (row.HistoryPlanId is null)
        {
            (row.HistoryMissing, row.HistoryPlanId, row.HistoryFeeCollectedByRazorpay, row.HistoryEffectiveFrom) = (true, row.PlanId, row.FeeCollectedByRazorpay, row.ChangedAt);
        }

        return row;
    }

    public async Task<IReadOnlyList<PlanChange>> GetPlanHistoryAsync(string orgId, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {orgId} and RowKey ge {PlanChangeRow.Prefix} and RowKey lt {PlanChangeRow.Prefix[..^1] + "}"}");
        var changes = new List<PlanChange>();
        await foreach (var row in Table.QueryAsync<PlanChangeRow>(filter, cancellationToken: cancellationToken))
        {
            changes.Add(row.ToChange());
        }

        if (changes.Count == 0 && await FindAsync(orgId, cancellationToken) is { } legacy)
        {
            // Saved before history was kept: its plan as of its last change is all that is known.
            changes.Add(new PlanChange(legacy.ChangedAt, legacy.PlanId, legacy.FeeCollectedByRazorpay));
        }

        return changes;
    }

    /// <summary>
    /// Inserts the row (when <paramref name="row"/>'s ETag is empty) or replaces it if unchanged; false on a lost race.
    /// When the plan that bills the org (plan, or who collects its fee) changes, the history entry is
    /// inserted in the same transaction, effective at <see cref="SubscriptionRow.ChangedAt"/> (or a tick
    /// after the previous entry), so the history can never disagree with the row.
    /// </summary>
    /// <summary>
    /// Moves the org to <paramref name="plan"/>, active, re-reading and re-deciding on a lost race
    /// (another change or a webhook). Null when it kept losing.
    /// </summary>
    public async Task<PlanChangeOutcome?> ChangePlanAsync(string orgId, Plan plan, string changedBy, CancellationToken cancellationToken) =>
        await OptimisticConcurrency.RunAsync<PlanChangeOutcome?>(
            ConcurrencyPolicy.Claim,
            async _ =>
            {
                var row = await FindAsync(orgId, cancellationToken);
                var before = ToSubscription(orgId, row);
                if (before.FeeCollectedByRazorpay || (before.PlanId == plan.Id && before.Status == SubscriptionStatus.Active))
                {
                    return new PlanChangeOutcome(before, before);
                }

                row ??= new SubscriptionRow { PartitionKey = orgId };
                row.PlanId = plan.Id;
                row.Status = SubscriptionStatus.Active;
                row.ForgetRazorpaySubscription();
                row.ChangedAt = time.GetUtcNow();
                row.ChangedBy = changedBy;
                return await TrySaveAsync(row, before, cancellationToken)
                    ? new PlanChangeOutcome(before, ToSubscription(orgId, row))
                    : Attempt.LostRace<PlanChangeOutcome?>();
            },
            cancellationToken,
            exhausted: () => null);

    /// <summary>
    /// Saves the row as <see cref="TrySaveAsync(SubscriptionRow, CancellationToken)"/> does and, when the
    /// subscription as the API shows it differs from <paramref name="before"/>, emits
    /// <c>subscription.changed</c> with it in the same transaction.
    /// </summary>
    public async Task<bool> TrySaveAsync(SubscriptionRow row, OrgSubscription before, CancellationToken cancellationToken)
    {
        var after = PlansApi.ToResponse(ToSubscription(row.PartitionKey, row), plans);
        if (after == PlansApi.ToResponse(before, plans))
        {
            return await TrySaveAsync(row, cancellationToken);
        }

        var staged = await outbox.StageAsync(row.PartitionKey, EventTypes.SubscriptionChanged, after, SubscriptionRow.TableName, row.PartitionKey, cancellationToken);
        if (!await TrySaveWithHistoryAsync(row, staged.Action, cancellationToken))
        {
            return false;
        }

        await outbox.PublishAsync(staged, cancellationToken);
        return true;
    }

    public async Task<bool> TrySaveAsync(SubscriptionRow row, CancellationToken cancellationToken)
    {
        if (row.HistoryPlanId != row.PlanId || row.HistoryFeeCollectedByRazorpay != row.FeeCollectedByRazorpay || row.HistoryMissing)
        {
            return await TrySaveWithHistoryAsync(row, null, cancellationToken);
        }

        try
        {
            if (row.ETag == default)
            {
                var added = await Table.AddEntityAsync(row, cancellationToken);
                row.ETag = added.Headers.ETag ?? default;
            }
            else
            {
                var replaced = await Table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken);
                row.ETag = replaced.Headers.ETag ?? default;
            }

            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return false;
        }
    }

    /// <summary>The row, its history entries when the billing plan changed, and <paramref name="outboxRow"/>, in one transaction.</summary>
    private async Task<bool> TrySaveWithHistoryAsync(SubscriptionRow row, TableTransactionAction? outboxRow, CancellationToken cancellationToken)
    {
        var actions = new List<TableTransactionAction>();
        if (row.HistoryMissing && row.HistoryEffectiveFrom is { } legacyFrom)
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.Add, new PlanChangeRow
            {
                PartitionKey = row.PartitionKey,
                RowKey = PlanChangeRow.Key(legacyFrom),
                EffectiveFrom = legacyFrom,
                PlanId = row.HistoryPlanId ?? plans.Default.Id,
                FeeCollectedByRazorpay = row.HistoryFeeCollectedByRazorpay,
                ChangedBy = "history:backfill",
            }));
        }

        var effectiveFrom = row.HistoryEffectiveFrom is { } previous && row.ChangedAt <= previous ? previous.AddTicks(1) : row.ChangedAt;
        if (row.HistoryPlanId != row.PlanId || row.HistoryFeeCollectedByRazorpay != row.FeeCollectedByRazorpay || row.HistoryEffectiveFrom is null)
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.Add, new PlanChangeRow
            {
                PartitionKey = row.PartitionKey,
                RowKey = PlanChangeRow.Key(effectiveFrom),
                EffectiveFrom = effectiveFrom,
                PlanId = row.PlanId,
                FeeCollectedByRazorpay = row.FeeCollectedByRazorpay,
                ChangedBy = row.ChangedBy,
            }));
            (row.HistoryPlanId, row.HistoryFeeCollectedByRazorpay, row.HistoryEffectiveFrom) = (row.PlanId, row.FeeCollectedByRazorpay, effectiveFrom);
        }

        actions.Insert(0, row.ETag == default
            ? new TableTransactionAction(TableTransactionActionType.Add, row)
            : new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, row.ETag));
        if (outboxRow is not null)
        {
            actions.Add(outboxRow);
        }

        try
        {
            var response = await Table.SubmitTransactionAsync(actions, cancellationToken);
            row.ETag = response.Value[0].Headers.ETag ?? default;
            row.HistoryMissing = false;
            return true;
        }
        catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
        {
            return false;
        }
    }

    public OrgSubscription ToSubscription(string orgId, SubscriptionRow? row)
    {
        var (monthStart, monthEnd) = BillingPeriods.CalendarMonthOf(time.GetUtcNow());
        if (row is null)
        {
            return new OrgSubscription(orgId, plans.Default.Id, SubscriptionStatus.Active, monthStart, monthEnd, null);
        }

        var planId = plans.TryGet(row.PlanId, out var plan) ? plan.Id : plans.Default.Id;
        var (start, end) = row.RazorpaySubscriptionId is not null && row.Status != SubscriptionStatus.Cancelled
            && row.RazorpayPeriodStart is { } rs && row.RazorpayPeriodEnd is { } re && re > rs
                ? (rs, re)
                : (monthStart, monthEnd);
        return new OrgSubscription(orgId, planId, row.Status, start, end, row.RazorpaySubscriptionId)
        {
            RazorpayStatus = row.RazorpaySubscriptionId is null ? null : row.RazorpayStatus,
            CheckoutUrl = row.AwaitingCheckout ? row.RazorpayShortUrl : null,
            PendingPlanId = row.AwaitingCheckout ? row.RazorpayPlanFor : null,
            CancelRequestedAt = row.CancelRequestedAt,
            CancelAtPeriodEnd = row.CancelAtPeriodEnd,
        };
    }
}
