using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Functions.Platform.RateLimiting;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Privacy;
using RaptorFlow.Functions.Webhooks;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Webhooks;

/// <summary>An endpoint's <c>rateLimitPerSecond</c> holds across every instance that shares the storage account.</summary>
public sealed class WebhookRateLimitTests
{
    private const int Limit = 20;

    [Fact]
    public async Task Two_instances_sending_to_one_endpoint_send_at_most_its_limit_per_second_and_the_rest_wait_for_the_next()
    {
        // The clock stands still, so the endpoint's bucket refills only when the test moves it: what is
        // sent in one window of it can only have come out of that window's budget.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var receiver = await WebhookReceiver.StartAsync();
        var settings = WebhookApp.Settings(allowPrivateNetworks: true);
        settings["RateLimits:Table"] = $"RateLimits{Guid.NewGuid():N}";
        await using var first = await TestApp.StartAsync(SignedInUsers.WithDevIssuer(settings), clock: clock, hostDrivesTriggers: true);
        await using var second = await TestApp.StartAsync(SignedInUsers.WithDevIssuer(settings), clock: clock, hostDrivesTriggers: true);
        var (owner, orgId) = await first.NewOrgAsync();
        var url = receiver.Path("/hooks/" + Guid.NewGuid().ToString("N"));
        await owner.CreateEndpointAsync(orgId, url, new { rateLimitPerSecond = Limit });
        const int Events = 3 * Limit;
        for (var i = 0; i < Events; i++)
        {
            await first.PublishAsync(orgId);
        }

        var queue = first.Storage.Queue(first.Services.GetRequiredService<WebhookQueues>().Deliveries);
        var apps = new[] { first, second };
        int Sent() => receiver.Received.Count(r => r.Path == url.AbsolutePath);

        // Each queued attempt goes to one instance or the other, all at once, as the host spreads a backlog.
        var messages = await TakeAsync(queue, Events);
        await DeliverAsync(apps, messages);
        var firstWindow = Sent();
        Assert.InRange(firstWindow, 1, Limit);

        // The refused sends were put back on the queue to try again, none dropped.
        var waiting = await TakeAsync(queue, Events - firstWindow);
        Assert.Equal(Events - firstWindow, waiting.Count);

        clock.Advance(TimeSpan.FromSeconds(1));
        await Task.WhenAll(first.SyncRateLimitsAsync(), second.SyncRateLimitsAsync());
        await DeliverAsync(apps, waiting);
        // A bucket of 20 holds 20 and refills 20 a second: over two windows at most 40, whichever instance sent them.
        Assert.InRange(Sent(), firstWindow + 1, 2 * Limit);
    }

    [Fact]
    public async Task A_send_whose_limit_cannot_be_checked_waits_where_an_api_request_would_be_admitted()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [StorageAccount.SettingName] = UnreachableStorage.ConnectionString() })
            .Build();
        var storage = new StorageAccount(configuration);
        var shared = new SharedRateLimits(storage, TimeProvider.System, Options.Create(new RateLimitSettings()), NullLogger<SharedRateLimits>.Instance);
        var sends = new WebhookRateLimits(shared, new OrgPurgeSchedule(storage, TimeProvider.System), Options.Create(new WebhookSettings()));
        var endpoint = new WebhookEndpointRow { PartitionKey = "org_unreachable", RowKey = "we_" + Guid.NewGuid().ToString("N"), RateLimitPerSecond = 5 };

        Assert.False(await sends.TryAcquireAsync(endpoint, CancellationToken.None));
        RequestLimit[] api = [new("key:" + Guid.NewGuid().ToString("N"), 5)];
        Assert.True((await shared.TryTakeAllAsync(api, CancellationToken.None)).Allowed);
    }

    /// <summary>Takes up to <paramref name="count"/> messages off the queue, waiting (bounded) for those still invisible after a re-schedule.</summary>
    private static async Task<List<string>> TakeAsync(Azure.Storage.Queues.QueueClient queue, int count)
    {
        var taken = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (taken.Count < count && DateTime.UtcNow < deadline)
        {
            var batch = (await queue.ReceiveMessagesAsync(32)).Value;
            if (batch.Length == 0)
            {
                await Task.Delay(200);
                continue;
            }

            foreach (var message in batch)
            {
                taken.Add(message.Body.ToString());
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
        }

        return taken;
    }

    private static async Task DeliverAsync(TestApp[] apps, List<string> messages) =>
        await Task.WhenAll(messages.Select((text, i) => Task.Run(async () =>
        {
            using var response = await apps[i % apps.Length].InvokeAsync(DeliverWebhook.FunctionName, HostInvocations.QueueTextEnvelope(text));
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        })));
}
