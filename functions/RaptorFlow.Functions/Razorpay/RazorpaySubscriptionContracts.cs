namespace RaptorFlow.Functions.Razorpay;

/// <summary><c>POST /v1/plans</c>: a plan charges <see cref="RazorpayPlanItem.Amount"/> every <see cref="Interval"/> <see cref="Period"/>s.</summary>
public sealed record CreatePlanRequest(string Period, int Interval, RazorpayPlanItem Item, IReadOnlyDictionary<string, string>? Notes = null);

public sealed record RazorpayPlanItem(string Name, long Amount, string Currency, string? Description = null);

public sealed record RazorpayPlan(string Id, string Period, int Interval, RazorpayPlanItem Item);

/// <summary><c>POST /v1/subscriptions</c>; <see cref="TotalCount"/> is the number of billing cycles.</summary>
public sealed record CreateSubscriptionRequest(string PlanId, int TotalCount, IReadOnlyDictionary<string, string>? Notes = null, bool CustomerNotify = true);

/// <summary><c>POST /v1/subscriptions/{id}/cancel</c>: at the end of the current cycle, or now.</summary>
public sealed record CancelSubscriptionRequest(bool CancelAtCycleEnd);

/// <summary>A subscription; <see cref="ShortUrl"/> is the hosted page where the customer authorises it.</summary>
public sealed record RazorpaySubscription(string Id, string PlanId, string Status, string? ShortUrl = null, long? CurrentStart = null, long? CurrentEnd = null);
