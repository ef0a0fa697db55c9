using System.Net;
using System.Net.Sockets;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Events;

/// <summary>
/// The outbox: an event is staged (index entry), committed with its change (one transaction),
/// published (enqueued), then dispatched into the org's feed and to subscribers, and settled.
/// </summary>
[Collection(EventsCollection.Name)]
public sealed class EventOutboxTests(EventsAppFixture fixture)
{
    private TestApp App => fixture.App;

    private TableClient Index => App.Storage.Table(App.Services.GetRequiredService<PendingEventsTable>().Name);

    private async Task<IReadOnlyList<DomainEvent>> FeedAsync(string orgId) =>
        (await App.Services.GetRequiredService<EventFeed>().ReadAsync(orgId, null, null, new PageRequest(100, null), default)).Data;

    private async Task<bool> IsPendingAsync(string eventId) =>
        (await Index.GetEntityIfExistsAsync<TableEntity>("~pending", eventId)).HasValue;

    private async Task<bool> HasOutboxRowAsync(StagedEvent staged) =>
        (await fixture.Source.GetEntityIfExistsAsync<TableEntity>(staged.OrgId, "~outbox|" + staged.Id)).HasValue;

    [Fact]
    public async Task A_committed_event_reaches_the_feed_and_subscribers_once_however_often_its_message_is_delivered()
    {
        var orgId = EventsAppFixture.NewOrgId();
        var staged = await fixture.EmitAsync(orgId, EventTypes.MemberAdded);
        await fixture.Outbox.PublishAsync(staged, default);
        await fixture.Outbox.PublishAsync(staged, default);

        // The host's envelope for one copy, the rest through the same invoker.
        var message = (await App.Storage.Queue(fixture.Queue).ReceiveMessageAsync()).Value;
        using (var response = await App.InvokeAsync(DispatchDomainEvent.FunctionName, HostInvocations.QueueTextEnvelope(message.Body.ToString())))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await App.Storage.Queue(fixture.Queue).DeleteMessageAsync(message.MessageId, message.PopReceipt);
        await fixture.DrainAsync();

        var feed = await FeedAsync(orgId);
        var only = Assert.Single(feed);
        Assert.Equal(staged.Id, only.Id);
        Assert.Equal(EventTypes.MemberAdded, only.Type);
        Assert.Equal(orgId, only.OrgId);
        Assert.Equal(orgId, only.Data.GetProperty("id").GetString());
        Assert.Equal(1, fixture.Subscriber.Count(staged.Id));
        Assert.False(await IsPendingAsync(staged.Id));
        Assert.False(await HasOutboxRowAsync(staged));
    }

    [Fact]
    public async Task Concurrent_duplicate_dispatches_hand_the_event_to_subscribers_once()
    {
        var orgId = EventsAppFixture.NewOrgId();
        var staged = await fixture.EmitAsync(orgId, publish: false);
        var envelope = HostInvocations.QueueTextEnvelope($"{{\"eventId\":\"{staged.Id}\"}}");

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => App.InvokeAsync(DispatchDomainEvent.FunctionName, envelope)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(1, fixture.Subscriber.Count(staged.Id));
        Assert.Single(await FeedAsync(orgId));
    }

    [Fact]
    public async Task A_change_that_never_commits_never_yields_an_event_and_its_entry_goes_after_the_grace_period()
    {
        var orgId = EventsAppFixture.NewOrgId();
        var staged = await fixture.EmitAsync(orgId, commit: false);
        Assert.True(await IsPendingAsync(staged.Id));

        // A message for it inside the grace period (a publish racing a slow commit) waits.
        await fixture.Outbox.PublishAsync(staged, default);
        await fixture.DrainAsync();
        Assert.True(await IsPendingAsync(staged.Id));

        fixture.Clock.Advance(DispatchDomainEvent.GracePeriod + TimeSpan.FromSeconds(5));
        Assert.True(await fixture.SweepAsync() >= 1);
        await fixture.DrainAsync();

        Assert.False(await IsPendingAsync(staged.Id));
        Assert.Empty(await FeedAsync(orgId));
        Assert.Equal(0, fixture.Subscriber.Count(staged.Id));
    }

    [Fact]
    public async Task An_event_committed_but_never_enqueued_is_delivered_by_the_sweeper()
    {
        var orgId = EventsAppFixture.NewOrgId();
        var staged = await fixture.EmitAsync(orgId, publish: false);

        fixture.Clock.Advance(SweepEventOutbox.SweepAfter + TimeSpan.FromSeconds(1));
        using (var response = await App.InvokeAsync(SweepEventOutbox.FunctionName, HostInvocations.TimerEnvelope()))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await fixture.DrainAsync();

        Assert.Equal([staged.Id], (await FeedAsync(orgId)).Select(e => e.Id));
        Assert.Equal(1, fixture.Subscriber.Count(staged.Id));
        Assert.False(await IsPendingAsync(staged.Id));
    }

    [Fact]
    public async Task A_failing_subscriber_leaves_the_event_pending_and_the_retry_delivers_it()
    {
        var orgId = EventsAppFixture.NewOrgId();
        fixture.Subscriber.FailNext();
        var staged = await fixture.EmitAsync(orgId);

        await fixture.DrainAsync();

        Assert.Equal(1, fixture.Subscriber.Count(staged.Id));
        Assert.False(await IsPendingAsync(staged.Id));
    }

    [Fact]
    public async Task The_sweeper_leaves_entries_younger_than_a_minute_alone()
    {
        var orgId = EventsAppFixture.NewOrgId();
        var staged = await fixture.EmitAsync(orgId, publish: false);
        fixture.Clock.Advance(TimeSpan.FromSeconds(30));

        await fixture.SweepAsync();
        await fixture.DrainAsync();

        Assert.True(await IsPendingAsync(staged.Id));
        fixture.Clock.Advance(TimeSpan.FromSeconds(31));
        await fixture.SweepAsync();
        await fixture.DrainAsync();
        Assert.False(await IsPendingAsync(staged.Id));
    }

    [Fact]
    public async Task A_committed_change_whose_event_cannot_be_queued_still_succeeds_and_the_sweeper_delivers_the_event()
    {
        // Tables answer; the queue service refuses every connection.
        var azurite = await Azurite.Shared;
        using var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var refusedPort = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var connection = azurite.ConnectionString.Replace(
            $"QueueEndpoint=http://127.0.0.1:{azurite.QueuePort}/", $"QueueEndpoint=http://127.0.0.1:{refusedPort}/", StringComparison.Ordinal);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [StorageAccount.SettingName] = connection })
            .Build();
        var outbox = new EventOutbox(
            new StorageAccount(configuration),
            new DomainEventsQueue(fixture.Queue),
            App.Services.GetRequiredService<PendingEventsTable>(),
            App.Services.GetRequiredService<IdGenerator>(),
            fixture.Clock,
            App.Services.GetRequiredService<IOptions<JsonOptions>>(),
            NullLogger<EventOutbox>.Instance);
        var orgId = EventsAppFixture.NewOrgId();
        var staged = await outbox.StageAsync(orgId, EventTypes.OrgUpdated, new { id = orgId }, EventsAppFixture.SourceTable, orgId, default);
        await fixture.CommitAsync(staged);

        await outbox.PublishAsync(staged, default);

        Assert.True(await IsPendingAsync(staged.Id));
        fixture.Clock.Advance(SweepEventOutbox.SweepAfter + TimeSpan.FromSeconds(1));
        await fixture.SweepAsync();
        await fixture.DrainAsync();
        Assert.Equal(staged.Id, Assert.Single(await FeedAsync(orgId)).Id);
        Assert.False(await IsPendingAsync(staged.Id));
    }
}
