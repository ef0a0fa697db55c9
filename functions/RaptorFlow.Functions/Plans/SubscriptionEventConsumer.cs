using System.Text.Json;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Razorpay;

namespace RaptorFlow.Functions.Plans;

/// <summary>
/// Applies Razorpay <c>subscription.*</c> webhooks to the org named by the subscription's
/// <c>notes.org_id</c>. Events are applied by the time Razorpay created them (then by how far
/// along the lifecycle they are), so a redelivered or out-of-order event never moves the state
/// back; an ended subscription stays ended.
/// </summary>
public sealed partial class SubscriptionEventConsumer(
    SubscriptionStore store, PlanCatalog catalog, OrgDirectory orgs, AuditLog audit, TimeProvider time, ILogger<SubscriptionEventConsumer> logger) : IRazorpayEventConsumer
{
    // Razorpay's subscription statuses in lifecycle order; the rank breaks ties between events of the same second.
    private static readonly Dictionary<string, int> Ranks = new(StringComparer.Ordinal)
    {
        ["created"] = 0,
        ["authenticated"] = 1,
        ["active"] = 2,
        ["resumed"] = 2,
        ["pending"] = 3,
        ["paused"] = 3,
        ["halted"] = 4,
        ["cancelled"] = 5,
        ["completed"] = 6,
        ["expired"] = 7,
    };

    public bool Handles(string eventName) => eventName is
        "subscription.activated" or "subscription.charged" or "subscription.pending" or "subscription.halted"
        or "subscription.cancelled" or "subscription.completed";

    public async Task<ConsumerOutcome> HandleAsync(RazorpayEvent razorpayEvent, CancellationToken cancellationToken)
    {
        if (razorpayEvent.Entity("subscription") is not { } entity || entity.Text("id") is not { Length: > 0 } subscriptionId)
        {
            return new ConsumerOutcome(false, "The event carries no subscription entity.");
        }

        var orgId = entity.Note("org_id");
        if (orgId is null || !await orgs.IsActiveAsync(orgId, cancellationToken))
        {
            LogUnknownOrg(logger, razorpayEvent.Id, subscriptionId);
            return new ConsumerOutcome(false, "The subscription names no known org (notes.org_id).");
        }

        var status = entity.Text("status") ?? StatusOf(razorpayEvent.Name);
        if (status is null || !Ranks.TryGetValue(status, out var rank))
        {
            return new ConsumerOutcome(false, $"Unknown subscription status '{status}'.");
        }

        var plan = (entity.Note("plan_id") is { } notedPlan && catalog.TryGet(notedPlan, out var noted) ? noted : null)
            ?? catalog.FindByRazorpayPlanId(entity.Text("plan_id"));
        if (plan is null)
        {
            LogUnknownPlan(logger, razorpayEvent.Id, subscriptionId);
            return new ConsumerOutcome(false, "The subscription's plan is not in the catalog (notes.plan_id or a configured RazorpayPlanId).");
        }

        var createdAt = razorpayEvent.Root.TryGetProperty("created_at", out var created) && created.ValueKind == JsonValueKind.Number && created.TryGetInt64(out var seconds)
            ? seconds
            : time.GetUtcNow().ToUnixTimeSeconds();

        return await OptimisticConcurrency.RunAsync<ConsumerOutcome>(
            ConcurrencyPolicy.Claim,
            async _ =>
            {
                var row = await store.FindAsync(orgId, cancellationToken);
                if (row is not null && IsStale(row, subscriptionId, createdAt, rank))
                {
                    return new ConsumerOutcome(true, $"Subscription {subscriptionId} already has a newer state; nothing to change.");
                }

                if (row is { HasLiveRazorpaySubscription: true } && row.RazorpaySubscriptionId != subscriptionId)
                {
                    // Another subscription (an abandoned or raced one) must not take over from the org's live one.
                    LogNotCurrent(logger, razorpayEvent.Id, subscriptionId, orgId);
                    return new ConsumerOutcome(false, $"Subscription {subscriptionId} is not {orgId}'s current Razorpay subscription.");
                }

                var before = store.ToSubscription(orgId, row);
                row ??= new SubscriptionRow { PartitionKey = orgId };
                var ended = rank >= Ranks["cancelled"];

                // One that ends before the customer ever authorised it never charged: the invoiced plan stays.
                var neverCharged = ended && row.AwaitingCheckout && row.RazorpaySubscriptionId == subscriptionId;
                row.TrackRazorpaySubscription(subscriptionId);
                row.RazorpayStatus = status;
                row.PlanId = neverCharged ? row.PlanId : ended ? catalog.Default.Id : plan.Id;
                row.Status = status switch
                {
                    _ when neverCharged => row.Status,
                    "pending" or "paused" => SubscriptionStatus.PastDue,
                    "halted" => SubscriptionStatus.Halted,
                    _ when ended => SubscriptionStatus.Cancelled,
                    _ => SubscriptionStatus.Active,
                };
                if (neverCharged)
                {
                    row.ForgetRazorpaySubscription();
                }

                row.RazorpayPeriodStart = UnixTime(entity, "current_start") ?? row.RazorpayPeriodStart;
                row.RazorpayPeriodEnd = UnixTime(entity, "current_end") ?? row.RazorpayPeriodEnd;
                row.LastEventCreatedAt = createdAt;
                row.LastEventRank = rank;
                row.LastEventId = razorpayEvent.Id;
                row.ChangedAt = time.GetUtcNow();
                row.ChangedBy = "razorpay:" + razorpayEvent.Id;
                if (!await store.TrySaveAsync(row, before, cancellationToken))
                {
                    return Attempt.LostRace<ConsumerOutcome>();
                }

                var after = store.ToSubscription(orgId, row);
                await audit.RecordAsync(orgId, AuditActor.System("razorpay"), new AuditEntry("subscription.changed", "subscription", orgId, new Dictionary<string, AuditChange>
                {
                    ["planId"] = new(before.PlanId, after.PlanId),
                    ["status"] = new(before.Status, after.Status),
                    ["razorpaySubscriptionId"] = new(before.RazorpaySubscriptionId, subscriptionId),
                }));
                return new ConsumerOutcome(true, $"Subscription {subscriptionId} is {after.Status} on plan {after.PlanId}.");
            },
            cancellationToken,
            // Thrown so the queue retries the event later.
            exhausted: () => throw new InvalidOperationException($"The subscription of {orgId} kept changing while applying event {razorpayEvent.Id}."));
    }

    private static bool IsStale(SubscriptionRow row, string subscriptionId, long createdAt, int rank)
    {
        if (row.LastEventCreatedAt is not { } lastAt)
        {
            // Only plan changes made here so far: a Razorpay event always applies.
            return false;
        }

        // An ended subscription stays ended, whatever arrives for it afterwards.
        if (row.RazorpaySubscriptionId == subscriptionId && row.LastEventRank >= Ranks["cancelled"])
        {
            return true;
        }

        return (createdAt, rank).CompareTo((lastAt, row.LastEventRank ?? 0)) <= 0;
    }

    private static string? StatusOf(string eventName) => eventName switch
    {
        "subscription.activated" or "subscription.charged" => "active",
        "subscription.pending" => "pending",
        "subscription.halted" => "halted",
        "subscription.cancelled" => "cancelled",
        "subscription.completed" => "completed",
        _ => null,
    };

    private static DateTimeOffset? UnixTime(JsonElement entity, string property) =>
        entity.Amount(property) is { } seconds and > 0 ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;

    [LoggerMessage(EventId = 6200, Level = LogLevel.Warning, Message = "Razorpay event {EventId} for subscription {SubscriptionId} names no known org; ignored.")]
    private static partial void LogUnknownOrg(ILogger logger, string eventId, string subscriptionId);

    [LoggerMessage(EventId = 6202, Level = LogLevel.Warning, Message = "Razorpay event {EventId} is for subscription {SubscriptionId}, not org {OrgId}'s live one; ignored.")]
    private static partial void LogNotCurrent(ILogger logger, string eventId, string subscriptionId, string orgId);

    [LoggerMessage(EventId = 6201, Level = LogLevel.Warning, Message = "Razorpay event {EventId} for subscription {SubscriptionId} names no plan in the catalog; ignored.")]
    private static partial void LogUnknownPlan(ILogger logger, string eventId, string subscriptionId);
}
