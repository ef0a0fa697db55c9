namespace RaptorFlow.Functions.Stats;

/// <summary>An org at a glance: the console's dashboard.</summary>
public sealed record OrgStatsResponse(
    string OrgId,
    DateTimeOffset AsOf,
    MemberCounts Members,
    int PendingInvitations,
    int ActiveApiKeys,
    PeriodUsage Usage,
    IReadOnlyList<AmountDue> AmountDue,
    IReadOnlyList<LedgerBalanceStat> Balances);

public sealed record MemberCounts(int Total, int Owners, int Admins, int Members, int Viewers);

/// <summary>The current billing period's usage per meter (from the rollups), against the plan's included quantity.</summary>
public sealed record PeriodUsage(string PlanId, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, IReadOnlyList<MeterUsage> Meters);

/// <summary><c>overage</c> is what is used beyond <c>included</c> (0 within the quota).</summary>
public sealed record MeterUsage(string Meter, long Used, long Included, long Overage);

/// <summary>What open (issued, unpaid) invoices still ask for, per currency, in minor units.</summary>
public sealed record AmountDue(string Currency, long AmountMinor, int OpenInvoices);

/// <summary>A ledger balance that matters to the org: <c>receivable</c> (owed by it) and <c>customer_credit</c> (held for it).</summary>
public sealed record LedgerBalanceStat(string Account, string Currency, long BalanceMinor);
