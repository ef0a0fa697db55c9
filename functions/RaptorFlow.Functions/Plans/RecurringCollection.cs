using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Razorpay;

namespace RaptorFlow.Functions.Plans;

/// <summary>What starting or cancelling a Razorpay subscription came to.</summary>
public abstract record RecurringOutcome
{
    /// <summary>The org's Razorpay subscription for the plan; <paramref name="Existing"/> when it was already there.</summary>
    public sealed record Started(OrgSubscription Before, OrgSubscription Subscription, bool Existing) : RecurringOutcome;

    /// <summary>A live Razorpay subscription for another plan is in the way.</summary>
    public sealed record AlreadyRecurring(OrgSubscription Subscription) : RecurringOutcome;

    public sealed record CancelRequested(OrgSubscription Before, OrgSubscription Subscription, bool Repeated) : RecurringOutcome;

    /// <summary>There is no live Razorpay subscription to cancel.</summary>
    public sealed record NotRecurring : RecurringOutcome;

    /// <summary>Razorpay could not be reached or is in trouble; nothing was recorded.</summary>
    public sealed record Unavailable : RecurringOutcome;

    /// <summary>Razorpay refused the call (its error description).</summary>
    public sealed record Refused(string Detail) : RecurringOutcome;

    public sealed record ConcurrentChange : RecurringOutcome;
}

/// <summary>
/// Starts and cancels the Razorpay subscription that collects an org's plan fee. Razorpay is called
/// first and its answer recorded after, under the subscription row's ETag: a failed call records
/// nothing, and of two racing starts only one subscription is recorded (the other is cancelled).
/// </summary>
public sealed partial class RecurringCollection(
    SubscriptionStore store, RazorpayPlans razorpayPlans, RazorpayClient razorpay, IOptions<PlanSettings> settings, TimeProvider time, ILogger<RecurringCollection> logger)
{
    public async Task<RecurringOutcome> StartAsync(string orgId, Plan plan, string changedBy, CancellationToken cancellationToken)
    {
        if (Live(orgId, await store.FindAsync(orgId, cancellationToken), plan) is { } existing)
        {
            return existing;
        }

        RazorpaySubscription created;
        try
        {
            var razorpayPlanId = await razorpayPlans.GetOrCreateAsync(plan, cancellationToken);
            created = await razorpay.CreateSubscriptionAsync(new CreateSubscriptionRequest(razorpayPlanId, settings.Value.RazorpayTotalCount,
                new Dictionary<string, string> { ["org_id"] = orgId, ["plan_id"] = plan.Id }), cancellationToken);
        }
        catch (Exception ex) when (RazorpayClient.IsUnavailable(ex) || ex is RazorpayApiException)
        {
            LogRazorpayFailed(logger, ex, "start", orgId);
            return ex is RazorpayApiException { Description: var detail } && !RazorpayClient.IsUnavailable(ex) ? new RecurringOutcome.Refused(detail) : new RecurringOutcome.Unavailable();
        }

        RecurringOutcome? outcome = null;
        try
        {
            outcome = await OptimisticConcurrency.RunAsync<RecurringOutcome?>(
                ConcurrencyPolicy.Claim,
                async _ =>
                {
                    var row = await store.FindAsync(orgId, cancellationToken);
                    if (Live(orgId, row, plan) is { } raced)
                    {
                        return raced;
                    }

                    var before = store.ToSubscription(orgId, row);
                    row ??= new SubscriptionRow { PartitionKey = orgId, PlanId = before.PlanId };
                    row.TrackRazorpaySubscription(created.Id);
                    row.Status = row.Status == SubscriptionStatus.Cancelled ? SubscriptionStatus.Active : row.Status;
                    (row.RazorpayStatus, row.RazorpayPlanFor, row.RazorpayShortUrl) = (created.Status, plan.Id, created.ShortUrl);
                    (row.ChangedAt, row.ChangedBy) = (time.GetUtcNow(), changedBy);
                    return await store.TrySaveAsync(row, before, cancellationToken)
                        ? new RecurringOutcome.Started(before, store.ToSubscription(orgId, row), false)
                        : Attempt.LostRace<RecurringOutcome?>();
                },
                cancellationToken,
                exhausted: () => null);
            return outcome ?? new RecurringOutcome.ConcurrentChange();
        }
        finally
        {
            if (outcome is not RecurringOutcome.Started { Existing: false })
            {
                await AbandonAsync(orgId, created.Id);
            }
        }
    }

    /// <summary>
    /// Asks Razorpay to cancel the org's live subscription, at the end of its cycle or now (always now
    /// for one still awaiting Checkout, which has no cycle), and records the request. A request already
    /// recorded is answered without calling Razorpay again, unless it was for the cycle's end and now is asked.
    /// </summary>
    public async Task<RecurringOutcome> CancelAsync(string orgId, bool atPeriodEnd, string changedBy, CancellationToken cancellationToken)
    {
        var row = await store.FindAsync(orgId, cancellationToken);
        if (row is not { HasLiveRazorpaySubscription: true, RazorpaySubscriptionId: { } subscriptionId })
        {
            return new RecurringOutcome.NotRecurring();
        }

        atPeriodEnd &= !row.AwaitingCheckout;
        if (row.CancelRequestedAt is not null && (!row.CancelAtPeriodEnd || atPeriodEnd))
        {
            var current = store.ToSubscription(orgId, row);
            return new RecurringOutcome.CancelRequested(current, current, true);
        }

        try
        {
            await razorpay.CancelSubscriptionAsync(subscriptionId, new CancelSubscriptionRequest(atPeriodEnd), cancellationToken);
        }
        catch (Exception ex) when (RazorpayClient.IsUnavailable(ex) || ex is RazorpayApiException)
        {
            LogRazorpayFailed(logger, ex, "cancel", orgId);
            return ex is RazorpayApiException { Description: var detail } && !RazorpayClient.IsUnavailable(ex) ? new RecurringOutcome.Refused(detail) : new RecurringOutcome.Unavailable();
        }

        return await OptimisticConcurrency.RunAsync<RecurringOutcome>(
            ConcurrencyPolicy.Claim,
            async _ =>
            {
                var latest = await store.FindAsync(orgId, cancellationToken);
                var before = store.ToSubscription(orgId, latest);
                if (latest is null || latest.RazorpaySubscriptionId != subscriptionId)
                {
                    return new RecurringOutcome.CancelRequested(before, before, true);
                }

                (latest.CancelRequestedAt, latest.CancelAtPeriodEnd, latest.ChangedAt, latest.ChangedBy) = (time.GetUtcNow(), atPeriodEnd, time.GetUtcNow(), changedBy);
                return await store.TrySaveAsync(latest, before, cancellationToken)
                    ? new RecurringOutcome.CancelRequested(before, store.ToSubscription(orgId, latest), false)
                    : Attempt.LostRace<RecurringOutcome>();
            },
            cancellationToken,
            exhausted: () => new RecurringOutcome.ConcurrentChange());
    }

    /// <summary>The org's live Razorpay subscription: the answer to a start for its plan, in the way of one for another.</summary>
    private RecurringOutcome? Live(string orgId, SubscriptionRow? row, Plan plan)
    {
        if (row is not { HasLiveRazorpaySubscription: true })
        {
            return null;
        }

        var subscription = store.ToSubscription(orgId, row);
        var chargesFor = row.AwaitingCheckout ? row.RazorpayPlanFor : row.PlanId;
        return chargesFor == plan.Id ? new RecurringOutcome.Started(subscription, subscription, true) : new RecurringOutcome.AlreadyRecurring(subscription);
    }

    /// <summary>A subscription created but not recorded (a lost race, a storage failure) is cancelled, so it can never charge.</summary>
    private async Task AbandonAsync(string orgId, string subscriptionId)
    {
        try
        {
            await razorpay.CancelSubscriptionAsync(subscriptionId, new CancelSubscriptionRequest(false), CancellationToken.None);
        }
        catch (Exception ex) when (RazorpayClient.IsUnavailable(ex) || ex is RazorpayApiException)
        {
            // It was never shown to anyone and awaits a Checkout that will not come; Razorpay expires it.
            LogAbandonFailed(logger, ex, subscriptionId, orgId);
        }
    }

    [LoggerMessage(EventId = 6210, Level = LogLevel.Warning, Message = "Razorpay refused or failed to {Action} the subscription of org {OrgId}")]
    private static partial void LogRazorpayFailed(ILogger logger, Exception exception, string action, string orgId);

    [LoggerMessage(EventId = 6211, Level = LogLevel.Warning, Message = "Razorpay subscription {SubscriptionId}, created for org {OrgId} but not recorded, could not be cancelled")]
    private static partial void LogAbandonFailed(ILogger logger, Exception exception, string subscriptionId, string orgId);
}
