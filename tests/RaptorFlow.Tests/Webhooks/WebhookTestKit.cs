using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Webhooks;
using RaptorFlow.Tests.Fixtures;
using StandardWebhooks;

namespace RaptorFlow.Tests.Webhooks;

/// <summary>A request as the receiver saw it.</summary>
public sealed record ReceivedWebhook(string Path, IHeaderDictionary Headers, string Body)
{
    public string Id => Headers["webhook-id"].ToString();

    public string[] Signatures => Headers["webhook-signature"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);

    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    /// <summary>
    /// Checks the signature with the reference library: its own signing of this id, timestamp and
    /// body with <paramref name="secret"/> must be one of the signatures sent. (Its <c>Verify</c>
    /// also checks the timestamp against the real clock, which tests that move a fake clock cannot pass.)
    /// </summary>
    public bool IsSignedWith(string secret)
    {
        var timestamp = DateTimeOffset.FromUnixTimeSeconds(long.Parse(Headers["webhook-timestamp"].ToString(), System.Globalization.CultureInfo.InvariantCulture));
        var expected = new StandardWebhook(secret).Sign(Id, timestamp, Body);
        return Signatures.Contains(expected, StringComparer.Ordinal);
    }
}

/// <summary>A real HTTP receiver on loopback (Kestrel) that records every webhook and answers as told.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WebhookReceiver(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; }

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    /// <summary>The answer to each request: status code and extra headers; 204 when unset.</summary>
    public Func<ReceivedWebhook, (int Status, string? Body, IDictionary<string, string>? Headers)> Respond { get; set; } = _ => (204, null, null);

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        WebhookReceiver? receiver = null;
        app.MapPost("/{**path}", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var headers = new HeaderDictionary(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value, StringComparer.OrdinalIgnoreCase));
            var received = new ReceivedWebhook(context.Request.Path, headers, body);
            receiver!.Received.Enqueue(received);
            var (status, text, extra) = receiver.Respond(received);
            context.Response.StatusCode = status;
            foreach (var (name, value) in extra ?? new Dictionary<string, string>())
            {
                context.Response.Headers[name] = new StringValues(value);
            }

            if (text is not null)
            {
                await context.Response.WriteAsync(text);
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver = new WebhookReceiver(app, new Uri(address));
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>
/// The app as webhook tests need it: private networks allowed (the receiver is on loopback), its own
/// queues, a fake clock that starts at the real time, and the test invoking the queue functions as
/// the Functions host would.
/// </summary>
public sealed class WebhookApp : IAsyncLifetime
{
    private TestApp? _app;

    public TestApp App => _app ?? throw new InvalidOperationException("The app has not started.");

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    public WebhookReceiver Receiver { get; private set; } = null!;

    public Task InitializeAsync() => StartAsync(allowPrivateNetworks: true);

    public async Task StartAsync(bool allowPrivateNetworks)
    {
        Receiver = await WebhookReceiver.StartAsync();
        _app = await TestApp.StartAsync(SignedInUsers.WithDevIssuer(Settings(allowPrivateNetworks)), clock: Clock, hostDrivesTriggers: true);
    }

    /// <summary>The same user signed in again: a token outlives neither a day nor the fake clock's jumps.</summary>
    public Task<TestUser> SignInAgainAsync(TestUser user) => App.SignInAsync(user.Id, user.Email);

    public static Dictionary<string, string?> Settings(bool allowPrivateNetworks)
    {
        var suffix = Guid.NewGuid().ToString("N")[..16];
        return new Dictionary<string, string?>
        {
            ["Webhooks:AllowPrivateNetworks"] = allowPrivateNetworks ? "true" : "false",
            ["Webhooks:DeliveryQueue"] = "whd-" + suffix,
            ["Webhooks:RecoveryQueue"] = "whr-" + suffix,
            ["Events:DispatchQueue"] = "whe-" + suffix,
            ["Events:OutboxTable"] = "EventOutbox" + suffix,
        };
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        await Receiver.DisposeAsync();
    }
}

/// <summary>Steps of a webhook test: endpoints through the API, events through the subscriber, queue messages through host invocations.</summary>
public static class WebhookSteps
{
    public sealed record CreatedEndpoint(string Id, string Secret, JsonElement Json);

    public static async Task<CreatedEndpoint> CreateEndpointAsync(this TestUser user, string orgId, Uri url, object? more = null)
    {
        var body = new Dictionary<string, object?> { ["url"] = url.ToString() };
        foreach (var property in JsonSerializer.SerializeToElement(more ?? new { }).EnumerateObject())
        {
            body[property.Name] = property.Value;
        }

        using var response = await user.Client.PostAsJsonAsync(new Uri($"/api/v1/orgs/{orgId}/webhook-endpoints", UriKind.Relative), body);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return new CreatedEndpoint(json.GetProperty("endpoint").GetProperty("id").GetString()!, json.GetProperty("secret").GetString()!, json);
    }

    /// <summary>Publishes an event to the webhook subscriber as the event dispatcher does.</summary>
    public static async Task<DomainEvent> PublishAsync(this TestApp app, string orgId, string type = EventTypes.InvoicePaid, object? data = null, DomainEvent? again = null)
    {
        var domainEvent = again ?? new DomainEvent(
            app.Services.GetRequiredService<IdGenerator>().New("evt"), type, app.Services.GetRequiredService<TimeProvider>().GetUtcNow(), orgId,
            JsonSerializer.SerializeToElement(data ?? new { id = "inv_test", amount = 118000, currency = "INR" }));
        var subscriber = app.Services.GetServices<IDomainEventSubscriber>().OfType<WebhookFanOut>().Single();
        await subscriber.OnPublishedAsync(domainEvent, CancellationToken.None);
        return domainEvent;
    }

    /// <summary>Invokes <c>DeliverWebhook</c> for every visible message on the app's delivery queue, as the host would, until none is left.</summary>
    public static async Task<int> DrainDeliveriesAsync(this TestApp app) =>
        await DrainAsync(app, app.Services.GetRequiredService<WebhookQueues>().Deliveries, DeliverWebhook.FunctionName);

    public static async Task<int> DrainRecoveriesAsync(this TestApp app) =>
        await DrainAsync(app, app.Services.GetRequiredService<WebhookQueues>().Recoveries, RecoverWebhookDeliveries.FunctionName);

    private static async Task<int> DrainAsync(TestApp app, string queueName, string function)
    {
        var queue = app.Storage.Queue(queueName);
        var count = 0;
        while (true)
        {
            var messages = (await queue.ReceiveMessagesAsync(32)).Value;
            if (messages.Length == 0)
            {
                return count;
            }

            foreach (var message in messages)
            {
                using var response = await app.InvokeAsync(function, HostInvocations.QueueTextEnvelope(message.Body.ToString(), (int)message.DequeueCount));
                Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                count++;
            }
        }
    }

    /// <summary>
    /// The scheduled next attempt, without waiting for its visibility delay: moves the clock to when
    /// it is due and invokes <c>DeliverWebhook</c> with the message the schedule queued.
    /// </summary>
    public static async Task RunNextAttemptAsync(this WebhookApp fixture, string orgId, string endpointId, JsonElement delivery)
    {
        var due = delivery.GetProperty("nextAttemptAt").GetDateTimeOffset();
        if (due > fixture.Clock.GetUtcNow())
        {
            fixture.Clock.SetUtcNow(due);
        }

        await fixture.App.InvokeDeliveryAsync(new WebhookDeliveryMessage(orgId, endpointId, delivery.GetProperty("id").GetString()!,
            delivery.GetProperty("round").GetInt32(), delivery.GetProperty("attemptCount").GetInt32() + 1));
    }

    public static async Task InvokeDeliveryAsync(this TestApp app, WebhookDeliveryMessage message)
    {
        var text = JsonSerializer.Serialize(message, new JsonSerializerOptions(JsonSerializerDefaults.Web));
        using var response = await app.InvokeAsync(DeliverWebhook.FunctionName, HostInvocations.QueueTextEnvelope(text));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public static async Task<JsonElement[]> DeliveriesAsync(this TestUser user, string orgId, string endpointId, string? status = null)
    {
        var query = status is null ? "" : $"?status={status}";
        using var response = await user.Client.GetAsync(new Uri($"/api/v1/orgs/{orgId}/webhook-endpoints/{endpointId}/deliveries{query}", UriKind.Relative));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return [.. (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data").EnumerateArray()];
    }

    public static async Task<JsonElement> SingleDeliveryAsync(this TestUser user, string orgId, string endpointId) =>
        Assert.Single(await user.DeliveriesAsync(orgId, endpointId));

    public static async Task<JsonElement> EndpointAsync(this TestUser user, string orgId, string endpointId)
    {
        using var response = await user.Client.GetAsync(new Uri($"/api/v1/orgs/{orgId}/webhook-endpoints/{endpointId}", UriKind.Relative));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public static Uri Path(this WebhookReceiver receiver, string path) => new(receiver.Url, path);
}
