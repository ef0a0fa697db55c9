using System.Globalization;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>Every loop of the driver is bounded by these counts and durations.</summary>
public sealed record LoadOptions
{
    /// <summary>Measured seconds per load run (after <see cref="Warmup"/>).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Concurrent clients of a load run; the baseline of a run uses the same.</summary>
    public int Concurrency { get; init; } = 8;

    /// <summary>Measured cold starts of each app (one unmeasured start of each comes first).</summary>
    public int Starts { get; init; } = 11;

    /// <summary>Distinct payment events of the ledger scenario (plus one duplicate delivery in ten).</summary>
    public int Events { get; init; } = 1_000;

    /// <summary>The 1× size of the scale curves' ledger (10× and 100× follow).</summary>
    public int LedgerBase { get; init; } = 15;

    /// <summary>The 1× count of other orgs in the system for the scale curves (10× and 100× follow).</summary>
    public int OrgsBase { get; init; } = 10;

    /// <summary>The 1× count of raw usage events of the rollup curve (10× and 100× follow).</summary>
    public int UsageBase { get; init; } = 1_000;

    /// <summary>The 1× count of settled webhook events for the inbox sweeper's curve (10× and 100× follow).</summary>
    public int InboxBase { get; init; } = 100;

    /// <summary>Webhook deliveries of the soak (a fifth of them duplicates).</summary>
    public int Deliveries { get; init; } = 10_000;

    /// <summary>Changes of the webhooks scenario's throughput run (one delivery each); its endpoints-per-org curve delivers half as many per point.</summary>
    public int WebhookEvents { get; init; } = 1_000;

    /// <summary>Audit events, and as many ledger lines, of the org the exports scenario exports.</summary>
    public int ExportRows { get; init; } = 100_000;

    /// <summary>Org counts of the invoice scale curve (each closed by every instance count).</summary>
    public IReadOnlyList<int> InvoiceOrgs { get; init; } = [1_000, 10_000];

    /// <summary>App instance counts sharing one storage account on the invoice scale curve.</summary>
    public IReadOnlyList<int> Instances { get; init; } = [1, 2, 4];

    /// <summary>Samples per point of a scale curve.</summary>
    public int Samples { get; init; } = 30;

    /// <summary>Most requests one load run makes, whatever its duration.</summary>
    public long MaxRequests { get; init; } = 2_000_000;

    /// <summary>An existing publish folder of RaptorFlow.Functions to use instead of publishing.</summary>
    public string? AppFolder { get; init; }

    public bool Save { get; init; } = true;

    /// <summary>Whether <c>coldstart</c> also publishes and starts the empty app as Native AOT (a publish of minutes on 2 cores).</summary>
    public bool NativeAot { get; init; } = true;

    public static LoadOptions Parse(IReadOnlyList<string> args)
    {
        var options = new LoadOptions();
        for (var i = 0; i < args.Count; i++)
        {
            string Next() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            options = args[i] switch
            {
                "--duration" => options with { Duration = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)) },
                "--warmup" => options with { Warmup = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)) },
                "--concurrency" => options with { Concurrency = Math.Clamp(Int(), 1, 256) },
                "--starts" => options with { Starts = Math.Clamp(Int(), 1, 100) },
                "--events" => options with { Events = Math.Clamp(Int(), 10, 20_000) },
                "--ledger-base" => options with { LedgerBase = Math.Clamp(Int(), 1, 1_000) },
                "--orgs-base" => options with { OrgsBase = Math.Clamp(Int(), 1, 1_000) },
                "--usage-base" => options with { UsageBase = Math.Clamp(Int(), 100, 100_000) },
                "--inbox-base" => options with { InboxBase = Math.Clamp(Int(), 10, 10_000) },
                "--deliveries" => options with { Deliveries = Math.Clamp(Int(), 100, 100_000) },
                "--webhook-events" => options with { WebhookEvents = Math.Clamp(Int(), 100, 100_000) },
                "--export-rows" => options with { ExportRows = Math.Clamp(Int(), 1_000, 1_000_000) / 2 * 2 },
                "--invoice-orgs" => options with { InvoiceOrgs = Ints(Next(), 10, 1_000_000) },
                "--instances" => options with { Instances = Ints(Next(), 1, 16) },
                "--samples" => options with { Samples = Math.Clamp(Int(), 5, 1_000) },
                "--app" => options with { AppFolder = Path.GetFullPath(Next()) },
                "--no-save" => options with { Save = false },
                "--no-aot" => options with { NativeAot = false },
                _ => throw new ArgumentException($"Unknown option '{args[i]}'."),
            };
        }

        return options;
    }

    /// <summary>A comma-separated list (<c>1000,10000</c>), each clamped to [min, max].</summary>
    private static int[] Ints(string text, int min, int max) =>
        [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t => Math.Clamp(int.Parse(t, CultureInfo.InvariantCulture), min, max))];
}
