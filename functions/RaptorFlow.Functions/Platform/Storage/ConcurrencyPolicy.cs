namespace RaptorFlow.Functions.Platform.Storage;

/// <summary>
/// How many times a read-decide-write round is tried before a lost race is the caller's problem.
/// The limits are kept as they were tuned per path; each says why it is what it is.
/// </summary>
public sealed record ConcurrencyPolicy(string Name, int MaxAttempts)
{
    /// <summary>
    /// A person's edit of their org's rows (members, invitations, keys, the org itself, an inbox
    /// outcome). Only other people's edits of the same row compete, so a few re-reads settle it;
    /// past that the request fails rather than keep a caller waiting.
    /// </summary>
    public static readonly ConcurrencyPolicy Edit = new(nameof(Edit), 6);

    /// <summary>
    /// A write that also moves its org's stats counters (members, invitations, keys): every such write
    /// of one org queues on the same counter row, so a burst of them needs as many rounds as writers.
    /// </summary>
    public static readonly ConcurrencyPolicy Counted = new(nameof(Counted), 30);

    /// <summary>
    /// A claim on a single row that a handful of concurrent deliveries race for (a subscription
    /// change, an idempotency key): whoever loses reads the winner's row and decides again.
    /// </summary>
    public static readonly ConcurrencyPolicy Claim = new(nameof(Claim), 5);

    /// <summary>
    /// A batch of new rows written all or none (usage event ids): each lost round settles the rows
    /// another writer added first and retries only the rest, so the batch only shrinks.
    /// </summary>
    public static readonly ConcurrencyPolicy Batch = new(nameof(Batch), 8);

    /// <summary>
    /// Which org owns a payment, and a usage period's totals: several events of one payment, or the
    /// timer and an invoice, write the same row at once; each loss means fresh work was written.
    /// </summary>
    public static readonly ConcurrencyPolicy Shared = new(nameof(Shared), 10);

    /// <summary>
    /// One invoice's steps and payments: the timer, webhooks and a void may all work one invoice at
    /// once, and each loss means the invoice moved on, so more rounds are allowed before giving up.
    /// </summary>
    public static readonly ConcurrencyPolicy Invoice = new(nameof(Invoice), 20);

    /// <summary>
    /// A shared rate-limit bucket: every instance serving the limit leases from it about once a second.
    /// A round that stays contended is skipped (the next sync tries again), so requests never wait on it.
    /// </summary>
    public static readonly ConcurrencyPolicy Lease = new(nameof(Lease), 8);

    /// <summary>
    /// A ledger's balance rows: every posting in an org's ledger writes them, so under load they are
    /// the hottest rows there are; a posting is only given up after this many lost races.
    /// </summary>
    public static readonly ConcurrencyPolicy Ledger = new(nameof(Ledger), 40);

    /// <summary>
    /// An invoice series' counter: every invoice of the financial year takes its number from one row,
    /// so month-end closes of all orgs queue on it; giving up would leave a draft unnumbered.
    /// </summary>
    public static readonly ConcurrencyPolicy Numbering = new(nameof(Numbering), 60);
}
