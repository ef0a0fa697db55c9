namespace RaptorFlow.Functions.Ledger;

/// <summary>One side of a posting: a debit or a credit of one account, in minor units of one currency.</summary>
public sealed record PostingLine(string Account, string Currency, long Debit, long Credit, string? Memo = null)
{
    public static PostingLine Dr(string account, string currency, long amount, string? memo = null) => new(account, currency, amount, 0, memo);

    public static PostingLine Cr(string account, string currency, long amount, string? memo = null) => new(account, currency, 0, amount, memo);
}

/// <summary>
/// A balanced set of lines posted to one ledger (an org id, or <see cref="ChartOfAccounts.PlatformLedger"/>)
/// exactly once per <see cref="IdempotencyKey"/>. With an <see cref="EventType"/>, a posting to an
/// org's ledger emits that event (data: the transaction as the ledger API returns it) in its own
/// entity-group transaction; the platform ledger and a replayed key emit nothing. Accounts in
/// <see cref="NotBelowZero"/> must keep a balance of at least zero on their normal side: the engine
/// checks the balance it read and replaces under its ETag, so a posting that would overdraw them is
/// refused with <see cref="InsufficientBalanceException"/> however postings race.
/// </summary>
public sealed record PostingBatch(
    string LedgerId,
    string IdempotencyKey,
    string Description,
    IReadOnlyList<PostingLine> Lines,
    string? SourceEventId = null,
    string? Reverses = null,
    string? EventType = null,
    IReadOnlyList<string>? NotBelowZero = null);
