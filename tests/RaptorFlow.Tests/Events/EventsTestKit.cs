using System.Collections.Concurrent;
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
    public async Task DrainAsync()
    {
        var queue = App.Storage.Queue(Queue);
        var invoker = App.Services.GetRequiredService<FunctionInvoker>();
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

    public Task<int> SweepAsync() => Outbox.SweepAsync(SweepEventOutbox.SweepAfter, default);

    public static string NewOrgId() => "org_" + Guid.NewGuid().ToString("N")[..26];
}

[CollectionDefinition(Name)]
public sealed class EventsCollection : ICollectionFixture<EventsAppFixture>
{
    public const string Name = "Events";
}
