using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RaptorFlow.Functions.Platform.Telemetry;

/// <summary>
/// The app's business and operations instruments, all on <see cref="Telemetry.Meter"/> and so
/// exported wherever it is (Azure Monitor). Counters are recorded where the event happens; the
/// gauges report the last sample <c>SampleOperations</c> took, so a scrape never reads storage.
/// Tags are low-cardinality by design (outcomes, currencies, queue and function names; never ids).
/// The README's metrics table lists each one.
/// </summary>
public static class AppMetrics
{
    public const string Prefix = "raptorflow.";

    public static readonly Counter<long> WebhooksReceived = Counter("webhooks.received", "{event}",
        "Razorpay webhook deliveries by outcome: accepted, duplicate, signature_invalid, invalid, not_configured, storage_unavailable.");

    public static readonly Counter<long> WebhooksProcessed = Counter("webhooks.processed", "{event}",
        "Webhook events processed from the queue by outcome: processed, ignored, failed, poison.");

    public static readonly Counter<long> LedgerPostings = Counter("ledger.postings", "{transaction}",
        "Ledger postings by ledger (org, platform) and outcome (posted, duplicate).");

    public static readonly Counter<long> ConcurrencyConflicts = Counter("concurrency.conflicts", "{conflict}",
        "Lost optimistic-concurrency races by policy (Ledger, Invoice, ...) and result (retried, exhausted).");

    public static readonly Counter<long> LedgerChecks = Counter("ledger.consistency.checked", "{ledger}",
        "Ledgers checked by the daily consistency check, by result (consistent, inconsistent).");

    public static readonly Counter<long> LedgerImbalances = Counter("ledger.consistency.imbalances", "{imbalance}",
        "Imbalances the consistency check found: an account balance that is not the sum of its entries (balance), or a trial balance that does not net to zero (trial).");

    public static readonly Counter<long> InvoicesIssued = Counter("invoices.issued", "{invoice}", "Invoices issued (numbered), by currency.");

    public static readonly Counter<long> InvoiceCloseFailures = Counter("invoices.close_failures", "{org}",
        "Org period closes that failed, by stage: enqueue (GenerateInvoices could not enqueue the org) or close (a CloseOrgPeriod invocation threw).");

    public static readonly Counter<long> PaymentLinks = Counter("payment_links", "{link}", "Razorpay payment links for invoices by outcome: created, refused, failed.");

    public static readonly Counter<long> AmountInvoiced = Counter("billing.invoiced", "{minor_unit}", "Amount invoiced, in minor units (paise), by currency.");

    public static readonly Counter<long> AmountCollected = Counter("billing.collected", "{minor_unit}",
        "Payments captured into an org's ledger, in minor units, by currency (suspense captures count once assigned).");

    public static readonly Counter<long> ApiKeyVerifications = Counter("apikeys.verifications", "{request}",
        "API-key requests by outcome: ok, invalid, revoked, expired, org_deleted, ip_not_allowed, rate_limited.");

    public static readonly Counter<long> ApiKeyCache = Counter("apikeys.cache", "{lookup}", "API-key verifications by cache result: hit (no storage read) or miss.");

    public static readonly Counter<long> UsageEvents = Counter("usage.events", "{event}", "Usage events recorded through the API by outcome: accepted, duplicate, rejected.");

    public static readonly Histogram<double> RollupLag = Telemetry.Meter.CreateHistogram<double>(Prefix + "usage.rollup.lag", "s",
        "Per pending hour rolled up: seconds from the end of the hour to its roll-up.");

    public static readonly Counter<long> WebhookDeliveries = Counter("webhook_deliveries", "{attempt}", "Outbound webhook delivery attempts by outcome.");

    public static readonly Histogram<double> FunctionDuration = Telemetry.Meter.CreateHistogram<double>(Prefix + "function.duration", "s",
        "Queue and timer function invocations (host and standalone): duration, by function, trigger (queue, timer) and outcome (succeeded, failed).");

    private static readonly ConcurrentDictionary<string, long> QueueDepths = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, double> QueueAges = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, long> SuspenseBalances = new(StringComparer.Ordinal);
    private static double? _inboxOldestAge;
    private static long _sampledAt;

    /// <summary>
    /// A sample is reported for a few minutes only: the timer runs on one instance at a time, and an
    /// instance that sampled once must not keep reporting an old depth (a poison alert that never clears).
    /// </summary>
    public static readonly TimeSpan SampleLifetime = TimeSpan.FromMinutes(3);

    private static bool Fresh => _sampledAt != 0 && Stopwatch.GetElapsedTime(_sampledAt) < SampleLifetime;

    public static readonly ObservableGauge<long> QueueDepth = Telemetry.Meter.CreateObservableGauge(Prefix + "queue.depth",
        () => QueueDepths.Where(_ => Fresh).Select(q => new Measurement<long>(q.Value, new KeyValuePair<string, object?>("queue", q.Key))), "{message}",
        "Approximate messages in each queue and poison queue, as last sampled.");

    public static readonly ObservableGauge<double> QueueAge = Telemetry.Meter.CreateObservableGauge(Prefix + "queue.oldest_age",
        () => QueueAges.Where(_ => Fresh).Select(q => new Measurement<double>(q.Value, new KeyValuePair<string, object?>("queue", q.Key))), "s",
        "Age of the oldest visible message in each queue and poison queue (0 when empty), as last sampled.");

    public static readonly ObservableGauge<double> InboxOldestAge = Telemetry.Meter.CreateObservableGauge(Prefix + "webhooks.inbox.oldest_unsettled_age",
        () => Fresh && _inboxOldestAge is { } age ? [new Measurement<double>(age)] : Array.Empty<Measurement<double>>(), "s",
        "Seconds since the oldest webhook event not yet processed or ignored (received, failed or poison) was received; 0 when none.");

    public static readonly ObservableGauge<long> SuspenseBalance = Telemetry.Meter.CreateObservableGauge(Prefix + "ledger.suspense.balance",
        () => SuspenseBalances.Where(_ => Fresh).Select(s => new Measurement<long>(s.Value, new KeyValuePair<string, object?>("currency", s.Key))), "{minor_unit}",
        "Money held in the platform's suspense account, in minor units, by currency, as last sampled.");

    public static void Count(Counter<long> counter, string tag, string value, long delta = 1) =>
        counter.Add(delta, new KeyValuePair<string, object?>(tag, value));

    public static void SampledQueue(string queue, long depth, TimeSpan oldest)
    {
        QueueDepths[queue] = depth;
        QueueAges[queue] = oldest.TotalSeconds;
        _sampledAt = Stopwatch.GetTimestamp();
    }

    public static void SampledInbox(TimeSpan oldestUnsettled)
    {
        _inboxOldestAge = oldestUnsettled.TotalSeconds;
        _sampledAt = Stopwatch.GetTimestamp();
    }

    /// <summary>Replaces the suspense sample; a currency no longer held reports 0 rather than its last balance.</summary>
    public static void SampledSuspense(IReadOnlyDictionary<string, long> balances)
    {
        foreach (var currency in SuspenseBalances.Keys.Except(balances.Keys))
        {
            SuspenseBalances[currency] = 0;
        }

        foreach (var (currency, balance) in balances)
        {
            SuspenseBalances[currency] = balance;
        }

        _sampledAt = Stopwatch.GetTimestamp();
    }

    /// <summary>One queue or timer invocation, as <c>FunctionInvoker</c> saw it.</summary>
    public static void Invoked(string function, string trigger, bool succeeded, long startedTimestamp) =>
        FunctionDuration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds,
            new KeyValuePair<string, object?>("function", function),
            new KeyValuePair<string, object?>("trigger", trigger),
            new KeyValuePair<string, object?>("outcome", succeeded ? "succeeded" : "failed"));

    private static Counter<long> Counter(string name, string unit, string description) =>
        Telemetry.Meter.CreateCounter<long>(Prefix + name, unit, description);
}
