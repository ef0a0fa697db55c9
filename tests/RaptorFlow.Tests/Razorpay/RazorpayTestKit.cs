using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Razorpay;

/// <summary>Builds Razorpay-shaped events, signs them, and drives the queue function the way a trigger does.</summary>
public static class RazorpayTestKit
{
    public const string WebhookSecret = "whsec_test_3f9a2c";

    public static string NewOrgId() => IdGenerator.NewSortableId(DateTimeOffset.UtcNow) is var id ? "org_" + id : "";

    public static string NewId(string prefix) => prefix + "_" + Guid.NewGuid().ToString("N")[..14];

    public static Dictionary<string, string?> Settings(string? queue = null) => new()
    {
        ["Razorpay:SweepAfter"] = "00:00:01",
        ["Razorpay:WebhookSecret"] = WebhookSecret,
        ["Razorpay:EventsQueue"] = queue ?? "rzp-" + Guid.NewGuid().ToString("N")[..20],
    };

    public static JsonObject Payment(string paymentId, long amount, string? orgId, string? invoiceId = null, long? fee = null, long? tax = null, string status = "captured")
    {
        JsonNode notes = orgId is null
            ? new JsonArray()
            : new JsonObject { ["org_id"] = orgId, ["invoice_id"] = invoiceId };
        return new JsonObject
        {
            ["id"] = paymentId,
            ["entity"] = "payment",
            ["amount"] = amount,
            ["currency"] = "INR",
            ["status"] = status,
            ["order_id"] = "order_" + paymentId[4..],
            ["method"] = "upi",
            ["captured"] = status == "captured",
            ["notes"] = notes,
            ["fee"] = fee,
            ["tax"] = tax,
            ["created_at"] = 1700000000,
        };
    }

    /// <summary>A payment link (or order, with <paramref name="entity"/> = <c>order</c>) whose notes name the org, as the app creates them for invoices.</summary>
    public static JsonObject NotedEntity(string entity, string id, long amount, string? orgId, string? invoiceId = null) => new()
    {
        ["id"] = id,
        ["entity"] = entity,
        ["amount"] = amount,
        ["currency"] = "INR",
        ["status"] = "paid",
        ["notes"] = orgId is null ? new JsonArray() : new JsonObject { ["org_id"] = orgId, ["invoice_id"] = invoiceId },
    };

    /// <summary>The paid order of <paramref name="paymentId"/> (id <c>order_</c> + the payment's suffix), with <paramref name="notes"/> as Razorpay sends them (an empty array for none).</summary>
    public static JsonObject PaidOrder(string paymentId, long amount, JsonNode notes) => new()
    {
        ["id"] = "order_" + paymentId[4..],
        ["entity"] = "order",
        ["amount"] = amount,
        ["amount_paid"] = amount,
        ["currency"] = "INR",
        ["status"] = "paid",
        ["notes"] = notes,
    };

    public static JsonObject Refund(string refundId, string paymentId, long amount, string status = "processed") => new()
    {
        ["id"] = refundId,
        ["entity"] = "refund",
        ["amount"] = amount,
        ["currency"] = "INR",
        ["payment_id"] = paymentId,
        ["status"] = status,
        ["notes"] = new JsonArray(),
    };

    public static string Event(string name, params (string Entity, JsonObject Value)[] entities)
    {
        var payload = new JsonObject();
        foreach (var (entity, value) in entities)
        {
            payload[entity] = new JsonObject { ["entity"] = value.DeepClone() };
        }

        return new JsonObject
        {
            ["entity"] = "event",
            ["account_id"] = "acc_BFQ7uQEaa7j2z7",
            ["event"] = name,
            ["contains"] = new JsonArray(entities.Select(e => (JsonNode)JsonValue.Create(e.Entity)).ToArray()),
            ["payload"] = payload,
            ["created_at"] = 1700000000,
        }.ToJsonString();
    }

    public static string Captured(string paymentId, long amount, string? orgId, long? fee = null, long? tax = null, string? invoiceId = null) =>
        Event("payment.captured", ("payment", Payment(paymentId, amount, orgId, invoiceId, fee, tax)));

    public static ByteArrayContent SignedBody(byte[] body, string secret = WebhookSecret, string? eventId = null)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.Add("X-Razorpay-Signature", WebhookSignature.Sign(secret, body));
        if (eventId is not null)
        {
            content.Headers.Add("x-razorpay-event-id", eventId);
        }

        return content;
    }

    public static async Task<HttpResponseMessage> DeliverAsync(this TestApp app, string body, string eventId, string secret = WebhookSecret) =>
        await app.Client.PostAsync(new Uri("/api/v1/webhooks/razorpay", UriKind.Relative), SignedBody(Encoding.UTF8.GetBytes(body), secret, eventId));

    /// <summary>Runs ProcessRazorpayEvent on one queue message, as either trigger path would.</summary>
    public static async Task ProcessAsync(this TestApp app, string eventId, long dequeueCount = 1)
    {
        using var scope = app.Services.CreateScope();
        var function = scope.ServiceProvider.GetRequiredService<ProcessRazorpayEvent>();
        var text = JsonSerializer.Serialize(new { eventId });
        await function.RunAsync(new QueueTriggerMessage(text, dequeueCount, Guid.NewGuid().ToString(), DateTimeOffset.UtcNow, Guid.NewGuid().ToString()), CancellationToken.None);
    }

    /// <summary>Delivers and processes an event; the processing step tolerates a concurrent processor.</summary>
    public static async Task DeliverAndProcessAsync(this TestApp app, string body, string eventId)
    {
        using var response = await app.DeliverAsync(body, eventId);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        await app.ProcessAsync(eventId);
    }

    public static async Task AssertLedgerIsConsistentAsync(this TestApp app, string ledgerId)
    {
        var reader = app.Services.GetRequiredService<LedgerReader>();
        Assert.Empty(await reader.CheckBalancesAsync(ledgerId, CancellationToken.None));
        var trial = await reader.TrialBalanceAsync(ledgerId, null, CancellationToken.None);
        Assert.True(trial.Balanced, JsonSerializer.Serialize(trial));
    }

    public static async Task<long> BalanceAsync(this TestApp app, string ledgerId, string account, string currency = "INR")
    {
        var accounts = await app.Services.GetRequiredService<LedgerReader>().AccountsAsync(ledgerId, CancellationToken.None);
        return accounts.Single(a => a.Code == account).Balances.SingleOrDefault(b => b.Currency == currency)?.Balance ?? 0;
    }

    public static Task<InboxEvent?> InboxAsync(this TestApp app, string eventId) =>
        app.Services.GetRequiredService<RazorpayInbox>().GetAsync(eventId, CancellationToken.None);
}

/// <summary>The organizations an app knows, until the organizations feature's own directory is wired in.</summary>
public sealed class KnownOrganizations : IKnownOrganizations
{
    private readonly ConcurrentDictionary<string, bool> _orgs = new();

    public string Add()
    {
        var id = RazorpayTestKit.NewOrgId();
        _orgs[id] = true;
        return id;
    }

    public Task<bool> ExistsAsync(string orgId, CancellationToken cancellationToken) => Task.FromResult(_orgs.ContainsKey(orgId));
}

/// <summary>Open invoices as the invoices feature would report them; records the payments it is told about.</summary>
public sealed class OpenInvoices : IInvoiceSettlement
{
    private readonly ConcurrentDictionary<(string Org, string Invoice), OpenInvoice> _open = new();

    public ConcurrentBag<(string Org, string Invoice, string Payment, long Amount)> Payments { get; } = [];

    public void Open(string orgId, string invoiceId, long outstanding) => _open[(orgId, invoiceId)] = new OpenInvoice(invoiceId, "INR", outstanding);

    public Task<OpenInvoice?> FindOpenInvoiceAsync(string orgId, string invoiceId, CancellationToken cancellationToken) =>
        Task.FromResult(_open.TryGetValue((orgId, invoiceId), out var invoice) ? invoice : null);

    private readonly ConcurrentDictionary<string, long> _applied = new();

    /// <summary>Once per payment, as the invoices feature does: the first answer is kept.</summary>
    public Task<long> ApplyPaymentAsync(string orgId, string invoiceId, string paymentId, long amountMinor, string currency, CancellationToken cancellationToken)
    {
        lock (_applied)
        {
            if (_applied.TryGetValue(paymentId, out var known))
            {
                return Task.FromResult(known);
            }

            var applied = _open.TryRemove((orgId, invoiceId), out var invoice) && invoice.Currency == currency ? Math.Min(amountMinor, invoice.OutstandingMinor) : 0;
            if (invoice is not null && invoice.OutstandingMinor > applied)
            {
                _open[(orgId, invoiceId)] = invoice with { OutstandingMinor = invoice.OutstandingMinor - applied };
            }

            _applied[paymentId] = applied;
            if (applied > 0)
            {
                Payments.Add((orgId, invoiceId, paymentId, applied));
            }

            return Task.FromResult(applied);
        }
    }
}

/// <summary>A consumer of <c>test.flaky</c> events that fails while told to.</summary>
public sealed class FlakyConsumer : IRazorpayEventConsumer
{
    public bool Failing { get; set; } = true;

    public bool Handles(string eventName) => eventName == "test.flaky";

    public Task<ConsumerOutcome> HandleAsync(RazorpayEvent razorpayEvent, CancellationToken cancellationToken) =>
        Failing ? throw new InvalidOperationException("downstream unavailable") : Task.FromResult(new ConsumerOutcome(true, "flaky handled"));
}

public sealed class RazorpayAppFixture : IAsyncLifetime
{
    private TestApp? _app;

    public TestApp App => _app ?? throw new InvalidOperationException("The app has not started.");
    public KnownOrganizations Orgs { get; } = new();
    public OpenInvoices Invoices { get; } = new();
    public FlakyConsumer Flaky { get; } = new();

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(RazorpayTestKit.Settings(), builder =>
    {
        builder.Services.AddSingleton<IKnownOrganizations>(Orgs);
        builder.Services.AddSingleton<IInvoiceSettlement>(Invoices);
        builder.Services.AddSingleton<IRazorpayEventConsumer>(Flaky);
    });

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
