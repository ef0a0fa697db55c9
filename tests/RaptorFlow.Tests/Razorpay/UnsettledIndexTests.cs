using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Razorpay;

/// <summary>
/// Unsettled webhook events are kept in an index partition, so the sweeper and the ops lists of
/// unsettled events read that partition by key, never the settled history.
/// </summary>
public sealed class UnsettledIndexTests(RazorpayAppFixture fixture) : IClassFixture<RazorpayAppFixture>
{
    private TestApp App => fixture.App;

    private TableClient Inbox => App.Storage.Table(App.Services.GetRequiredService<RazorpayInboxTable>().Name);

    [Fact]
    public async Task An_event_is_in_the_unsettled_index_from_its_storing_until_it_is_processed()
    {
        var eventId = RazorpayTestKit.NewId("evt");
        var inbox = App.Services.GetRequiredService<RazorpayInbox>();
        var body = System.Text.Encoding.UTF8.GetBytes(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 1_000, fixture.Orgs.Add()));
        await inbox.StoreAsync(eventId, "payment.captured", body, "test", default);

        var entry = await Inbox.GetEntityIfExistsAsync<UnsettledRow>(InboxKeys.UnsettledPartition, eventId);
        Assert.True(entry.HasValue);
        Assert.Equal("received", entry.Value!.Status);
        var received = await inbox.ListAsync(InboxStatus.Received, new PageRequest(100, null), default);
        Assert.Contains(received.Data, e => e.EventId == eventId);

        await App.ProcessAsync(eventId);

        Assert.Equal(InboxStatus.Processed, (await App.InboxAsync(eventId))!.Status);
        Assert.False((await Inbox.GetEntityIfExistsAsync<UnsettledRow>(InboxKeys.UnsettledPartition, eventId)).HasValue);

        // A redelivery of the settled event leaves no entry behind.
        await inbox.StoreAsync(eventId, "payment.captured", body, "test", default);
        Assert.False((await Inbox.GetEntityIfExistsAsync<UnsettledRow>(InboxKeys.UnsettledPartition, eventId)).HasValue);
    }

    [Fact]
    public async Task The_sweeper_drops_index_entries_whose_event_was_never_stored_or_is_settled()
    {
        var orphan = RazorpayTestKit.NewId("evt");
        var stale = RazorpayTestKit.NewId("evt");
        var longAgo = DateTimeOffset.UtcNow.AddHours(-1);
        await Inbox.UpsertEntityAsync(new UnsettledRow { RowKey = orphan, Status = "received", EnqueuedAt = longAgo });
        await Inbox.AddEntityAsync(new InboxRow { PartitionKey = stale, Event = "payment.captured", Status = "processed", ReceivedAt = longAgo, EnqueuedAt = longAgo, BodySha256 = "test" });
        await Inbox.UpsertEntityAsync(new UnsettledRow { RowKey = stale, Status = "received", EnqueuedAt = longAgo });

        await App.Services.GetRequiredService<RazorpayInbox>().SweepAsync(TimeSpan.FromMinutes(5), default);

        Assert.False((await Inbox.GetEntityIfExistsAsync<UnsettledRow>(InboxKeys.UnsettledPartition, orphan)).HasValue);
        Assert.False((await Inbox.GetEntityIfExistsAsync<UnsettledRow>(InboxKeys.UnsettledPartition, stale)).HasValue);
        Assert.Equal(InboxStatus.Processed, (await App.InboxAsync(stale))!.Status);
    }
}
