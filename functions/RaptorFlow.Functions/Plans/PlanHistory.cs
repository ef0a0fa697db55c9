namespace RaptorFlow.Functions.Plans;

/// <summary>
/// The plan that bills an org from <see cref="EffectiveFrom"/> until the next change, and whether a
/// Razorpay subscription collects its fee meanwhile (then invoices bill its usage only).
/// </summary>
public sealed record PlanChange(DateTimeOffset EffectiveFrom, string PlanId, bool FeeCollectedByRazorpay);

public static class PlanHistory
{
    /// <summary>
    /// The changes that bill [<paramref name="periodStart"/>, <paramref name="periodEnd"/>): the one in
    /// effect at the start (its time moved to the start; the default plan when the history begins
    /// later), then every change inside the period. Changes at or after the end do not count.
    /// </summary>
    public static IReadOnlyList<PlanChange> During(IReadOnlyList<PlanChange> history, string defaultPlanId, DateTimeOffset periodStart, DateTimeOffset periodEnd)
    {
        var ordered = history.OrderBy(c => c.EffectiveFrom).ToList();
        var atStart = ordered.LastOrDefault(c => c.EffectiveFrom <= periodStart) ?? new PlanChange(periodStart, defaultPlanId, false);
        var during = new List<PlanChange> { atStart with { EffectiveFrom = periodStart } };
        during.AddRange(ordered.Where(c => c.EffectiveFrom > periodStart && c.EffectiveFrom < periodEnd));
        return during;
    }
}
