using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Events;

/// <summary>Records what the dispatcher hands subscribers; can be told to fail its next call.</summary>
public sealed class RecordingSubscriber : IDomainEventSubscriber
{
    private int _failNext;

    public ConcurrentQueue<DomainEvent> Received { get; } = new();

    public void FailNext() => Interlocked.Exchange(ref _failNext, 1);

    public void Recover() => Interlocked.Exchange(ref _failNext, 0);

    public int Count(string eventId) => Received.Count(e => e.Id == eventId);

    public Task OnPublishedAsync(DomainEvent domainEvent, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _failNext, 0) == 1)
        {
            throw new InvalidOperationException("The subscriber is down.");
        }

        Received.Enqueue(domainEvent);
        return Task.CompletedTask;
    }
}

/// <summary>
/// One app for the events tests, with its own dispatch queue, a clock the tests move and no
/// in-process triggers: tests dispatch and sweep themselves, as the Functions host would. The
/// events tests run one at a time (one collection), since the sweeper reads the whole pending index.
/// </summary>
public sealed class EventsAppFixture : IAsyncLifetime
{
    /// <summary>A table of the tests' own that stands in for a feature's: the change and its outbox row are written here.</summary>
    public const string SourceTable = "EventsTestSource";

    private TestApp? _app;

    public string Queue { get; } = "domain-events-" + Guid.NewGuid().ToString("N")[..12];

    public TestApp App => _app ?? throw new InvalidOperationException("The app has not started.");
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);
    public RecordingSubscriber Subscriber { get; } = new();

    public EventOutbox Outbox => App.Services.GetRequiredService<EventOutbox>();
    public TableClient Source => App.Storage.Table(SourceTable);

    public async Task InitializeAsync()
    {
        _app = await TestApp.StartAsync(
            SignedInUsers.WithDevIssuer(new Dictionary<string, string?> { ["Events:DispatchQueue"] = Queue }),
            builder => builder.Services.AddSingleton<IDomainEventSubscriber>(Subscriber),
            clock: Clock,
            hostDrivesTriggers: true);
        await Source.CreateIfNotExistsAsync();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    /// <summary>A change in the tests' table and its event, as a store does it: stage, one transaction, publish.</summary>
    public async Task<StagedEvent> EmitAsync(string orgId, string type = EventTypes.OrgUpdated, bool commit = true, bool publish = true)
    {
        var staged = await StageAsync(orgId, type);
        if (commit)
        {
            await CommitAsync(staged);
        }

        if (commit && publish)
        {
            await Outbox.PublishAsync(staged, default);
        }

        return staged;
    }

    public Task<StagedEvent> StageAsync(string orgId, string type = EventTypes.OrgUpdated)
    {
        var now = Clock.GetUtcNow();
        var data = new OrganizationResponse(orgId, "Org " + orgId[^6..], "org-" + orgId[^6..], now, now, null);
        return Outbox.StageAsync(orgId, type, data, SourceTable, orgId, default);
    }

    /// <summary>The change (a row of its own) and the outbox row in one entity-group transaction.</summary>
    public async Task CommitAsync(StagedEvent staged) =>
        await Source.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(staged.OrgId, "change|" + staged.Id)),
                staged.Action,
            ]);

    /// <summary>Runs the dispatcher on every message now visible on the queue, as the host would, until none is left.</summary>
    public Task DrainAsync() => App.DispatchEventsAsync();

    public Task<int> SweepAsync() => Outbox.SweepAsync(SweepEventOutbox.SweepAfter, default);

    public static string NewOrgId() => "org_" + Guid.NewGuid().ToString("N")[..26];
}

/// <summary>Drives the event dispatcher of an app whose host drives the triggers, and reads the org's feed.</summary>
public static class EventFeedKit
{
    /// <summary>An event dispatch queue of the test's own, so no other app's test dispatches its events.</summary>
    public static Dictionary<string, string?> WithOwnDispatchQueue(this Dictionary<string, string?> settings)
    {
        settings["Events:DispatchQueue"] = "domain-events-" + Guid.NewGuid().ToString("N")[..12];
        return settings;
    }

    /// <summary>Runs the dispatcher on every message now visible on the app's dispatch queue, as the host would, until none is left.</summary>
    public static async Task DispatchEventsAsync(this TestApp app)
    {
        var queue = app.Storage.Queue(app.Services.GetRequiredService<DomainEventsQueue>().Name);
        await queue.CreateIfNotExistsAsync();
        var invoker = app.Services.GetRequiredService<FunctionInvoker>();
        var function = invoker.Find(DispatchDomainEvent.FunctionName)!;
        while (true)
        {
            var messages = (await queue.ReceiveMessagesAsync(32)).Value;
            if (messages.Length == 0)
            {
                return;
            }

            foreach (var message in messages)
            {
                try
                {
                    await invoker.InvokeQueueAsync(function, new QueueTriggerMessage(message.Body.ToString(), message.DequeueCount, message.MessageId, message.InsertedOn, "test"), default);
                    await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                }
                catch (InvalidOperationException)
                {
                    // The subscriber failed: the message becomes visible again at once, as after a host retry.
                    await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: TimeSpan.Zero);
                }
            }
        }
    }

    /// <summary>The org's feed (newest first), events of <paramref name="type"/> only, after dispatching what is queued.</summary>
    public static async Task<List<JsonElement>> EventsOfTypeAsync(this TestApp app, TestUser reader, string orgId, string type)
    {
        await app.DispatchEventsAsync();
        var page = await reader.Client.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/orgs/{orgId}/events?limit=100&type={type}", UriKind.Relative));
        return [.. page.GetProperty("data").EnumerateArray()];
    }

    /// <summary>The one event of <paramref name="type"/> in the org's feed; fails on none or several.</summary>
    public static async Task<JsonElement> SingleEventAsync(this TestApp app, TestUser reader, string orgId, string type)
    {
        var events = await app.EventsOfTypeAsync(reader, orgId, type);
        Assert.True(events.Count == 1, $"{events.Count} {type} events in the feed of {orgId}.");
        return events[0];
    }

    /// <summary>Asserts the event's data is the resource exactly as the API's GET of it answers.</summary>
    public static async Task AssertDataIsResourceAsync(JsonElement domainEvent, TestUser reader, string path)
    {
        var resource = await reader.Client.GetFromJsonAsync<JsonElement>(new Uri(path, UriKind.Relative));
        Assert.Equal(resource.GetRawText(), domainEvent.GetProperty("data").GetRawText());
    }
}

[CollectionDefinition(Name)]
public sealed class EventsCollection : ICollectionFixture<EventsAppFixture>
{
    public const string Name = "Events";
}
