using RaptorFlow.Functions.ApiKeys;
using RaptorFlow.Functions.Invitations;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Members;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Plans;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Usage;

namespace RaptorFlow.Functions.Stats;

/// <summary>
/// Computes an org's stats from the rows the features keep: the member, invitation and key counts
/// from <see cref="OrgCounters"/> (rebuilt from the rows through the stores when missing), the amount
/// due from the org's invoices, the usage from the rollups and the balances from the ledger's balance rows.
/// </summary>
public sealed class OrgStatsReader(
    OrgCounters counters,
    MemberRoster roster,
    InvitationBook invitations,
    ApiKeyRing keys,
    ISubscriptions subscriptions,
    PlanCatalog plans,
    IUsageTotals usage,
    InvoiceBook invoices,
    LedgerReader ledger,
    TimeProvider time) : IOrgRecount
{
    public static readonly string[] BalancesShown = [ChartOfAccounts.Receivable, ChartOfAccounts.CustomerCredit];

    public async Task<OrgStatsResponse> ReadAsync(string orgId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var counts = counters.ReadAsync(orgId, this, cancellationToken);
        var invoiceRows = AllAsync<InvoiceRow>(page => invoices.ListAsync(orgId, page, cancellationToken));
        var period = PeriodUsageAsync(orgId, cancellationToken);
        var accounts = ledger.AccountsAsync(orgId, cancellationToken);
        await Task.WhenAll(counts, invoiceRows, period, accounts);

        var (owners, admins, members, viewers, pending, activeKeys) = await counts;
        return new OrgStatsResponse(
            orgId,
            now,
            new MemberCounts(owners + admins + members + viewers, owners, admins, members, viewers),
            pending,
            activeKeys,
            await period,
            [.. (await invoiceRows)
                .Where(i => i.Status == InvoiceStatus.Issued.ToWire())
                .GroupBy(i => i.Currency, StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new AmountDue(g.Key, g.Sum(i => i.TotalMinor - i.AmountPaidMinor), g.Count()))],
            [.. (await accounts)
                .Where(a => BalancesShown.Contains(a.Code))
                .SelectMany(a => a.Balances.Select(b => new LedgerBalanceStat(a.Code, b.Currency, b.Balance)))]);
    }

    public async Task<IReadOnlyList<Role>> MemberRolesAsync(string orgId, CancellationToken cancellationToken) =>
        [.. (await AllAsync<MemberRow>(page => roster.ListAsync(orgId, page, cancellationToken))).Select(m => m.ParsedRole)];

    public async Task<IReadOnlyList<DateTimeOffset?>> OpenInvitationExpiriesAsync(string orgId, CancellationToken cancellationToken) =>
        [.. (await AllAsync<InvitationRow>(page => invitations.ListPendingAsync(orgId, page, cancellationToken))).Select(i => (DateTimeOffset?)i.ExpiresAt)];

    public async Task<IReadOnlyList<DateTimeOffset?>> LiveKeyExpiriesAsync(string orgId, CancellationToken cancellationToken) =>
        [.. (await AllAsync<ApiKeyRow>(page => keys.ListAsync(orgId, page, cancellationToken))).Where(k => k.ParsedStatus == ApiKeyStatus.Active).Select(k => k.ExpiresAt)];

    private async Task<PeriodUsage> PeriodUsageAsync(string orgId, CancellationToken cancellationToken)
    {
        var subscription = await subscriptions.GetAsync(orgId, cancellationToken);
        var plan = plans.Get(subscription.PlanId);
        var used = await usage.GetTotalsAsync(orgId, subscription.CurrentPeriodStart, subscription.CurrentPeriodEnd, cancellationToken);
        var meters = plan.Meters.Keys.Union(used.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(meter =>
        {
            var quantity = used.GetValueOrDefault(meter);
            var included = plan.Meters.TryGetValue(meter, out var price) ? price.IncludedQuantity : 0;
            return new MeterUsage(meter, quantity, included, Math.Max(0, quantity - included));
        });
        return new PeriodUsage(plan.Id, subscription.CurrentPeriodStart, subscription.CurrentPeriodEnd, [.. meters]);
    }

    private static async Task<List<T>> AllAsync<T>(Func<PageRequest, Task<(IReadOnlyList<T> Items, string? NextCursor)>> read)
    {
        var all = new List<T>();
        string? cursor = null;
        do
        {
            var (items, next) = await read(new PageRequest(PageRequest.MaxLimit, cursor));
            all.AddRange(items);
            cursor = next;
        }
        while (cursor is not null);

        return all;
    }
}
