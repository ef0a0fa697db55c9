using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using RaptorFlow.Functions.Events;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Events;

/// <summary><c>GET /api/v1/orgs/{orgId}/events</c>: the org's own events, newest first, 30 days.</summary>
[Collection(EventsCollection.Name)]
public sealed class EventFeedTests(EventsAppFixture fixture)
{
    private TestApp App => fixture.App;

    private static Uri Url(string path) => new(path, UriKind.Relative);

    private static async Task<(List<JsonElement> Data, string? Next)> PageAsync(TestUser reader, string orgId, string query = "")
    {
        var page = await reader.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/events?limit=100{query}"));
        return ([.. page.GetProperty("data").EnumerateArray()], page.GetProperty("nextCursor").GetString());
    }

    private static IEnumerable<string> Ids(IEnumerable<JsonElement> events) => events.Select(e => e.GetProperty("id").GetString()!);

    /// <summary>Events emitted a second apart, dispatched.</summary>
    private async Task<List<StagedEvent>> EmitAsync(string orgId, params string[] types)
    {
        var emitted = new List<StagedEvent>();
        foreach (var type in types)
        {
            fixture.Clock.Advance(TimeSpan.FromSeconds(1));
            emitted.Add(await fixture.EmitAsync(orgId, type));
        }

        await fixture.DrainAsync();
        return emitted;
    }

    [Fact]
    public async Task The_feed_lists_the_orgs_events_newest_first_with_their_data()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var emitted = await EmitAsync(orgId, EventTypes.OrgUpdated, EventTypes.MemberAdded);

        var (data, next) = await PageAsync(owner, orgId);

        Assert.Equal(emitted.Select(e => e.Id).Reverse(), Ids(data));
        Assert.Null(next);
        var newest = data[0];
        Assert.Equal(EventTypes.MemberAdded, newest.GetProperty("type").GetString());
        Assert.Equal(orgId, newest.GetProperty("orgId").GetString());
        Assert.Equal(emitted[1].CreatedAt, newest.GetProperty("createdAt").GetDateTimeOffset());
        Assert.Equal(orgId, newest.GetProperty("data").GetProperty("id").GetString());
    }

    [Fact]
    public async Task Another_orgs_feed_is_404_and_never_shows_this_orgs_events()
    {
        var (ownerA, orgA) = await App.NewOrgAsync();
        var (ownerB, orgB) = await App.NewOrgAsync();
        var emitted = await EmitAsync(orgA, EventTypes.OrgUpdated);

        using (var response = await ownerB.Client.GetAsync(Url($"/api/v1/orgs/{orgA}/events")))
        {
            await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "org.not_found");
        }

        Assert.Empty((await PageAsync(ownerB, orgB)).Data);
        Assert.Equal(emitted.Select(e => e.Id), Ids((await PageAsync(ownerA, orgA)).Data));
    }

    [Fact]
    public async Task Viewers_read_the_feed_and_callers_without_a_token_do_not()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var viewer = await App.SignInAsync();
        await owner.AddMemberAsync(orgId, viewer, "viewer");

        using (var read = await viewer.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/events")))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }

        using var anonymous = await App.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/events"));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task The_feed_pages_with_a_cursor_and_filters_by_type_and_creation_time()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var emitted = await EmitAsync(orgId,
            EventTypes.OrgUpdated, EventTypes.MemberAdded, EventTypes.OrgUpdated, EventTypes.MemberRemoved, EventTypes.OrgUpdated);
        var newestFirst = emitted.Select(e => e.Id).Reverse().ToList();

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/events?limit=2"
                + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))));
            var ids = Ids(page.GetProperty("data").EnumerateArray()).ToList();
            Assert.InRange(ids.Count, 1, 2);
            seen.AddRange(ids);
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal(newestFirst, seen);
        Assert.Equal(emitted.Where(e => e.Type == EventTypes.OrgUpdated).Select(e => e.Id).Reverse(),
            Ids((await PageAsync(owner, orgId, $"&type={EventTypes.OrgUpdated}")).Data));
        var after = Uri.EscapeDataString(emitted[2].CreatedAt.ToString("O"));
        Assert.Equal(newestFirst[..2], Ids((await PageAsync(owner, orgId, $"&after={after}")).Data));

        var typedPage = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/events?limit=1&type={EventTypes.OrgUpdated}"));
        var typedCursor = Uri.EscapeDataString(typedPage.GetProperty("nextCursor").GetString()!);
        using (var replayed = await owner.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/events?cursor={typedCursor}")))
        {
            await replayed.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
        }
    }

    [Theory]
    [InlineData("type=no.such_type")]
    [InlineData("after=yesterday")]
    [InlineData("after=2026-01-01T00:00:00")]
    [InlineData("limit=0")]
    [InlineData("cursor=not-a-cursor")]
    public async Task Bad_filters_are_a_validation_problem(string query)
    {
        var (owner, orgId) = await App.NewOrgAsync();
        using var response = await owner.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/events?{query}"));
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
    }

    [Fact]
    public async Task Events_older_than_30_days_leave_the_feed_and_the_orgs_next_dispatch_deletes_them()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var old = await EmitAsync(orgId, EventTypes.OrgUpdated);
        fixture.Clock.Advance(TimeSpan.FromDays(29));
        owner = await App.SignInAsync(owner.Id); // the first token expired long ago
        Assert.Equal(old.Select(e => e.Id), Ids((await PageAsync(owner, orgId)).Data));
        Assert.Equal(1, await StoredRowsAsync(orgId));

        fixture.Clock.Advance(TimeSpan.FromDays(1));
        owner = await App.SignInAsync(owner.Id);
        Assert.Empty((await PageAsync(owner, orgId)).Data);

        var recent = await EmitAsync(orgId, EventTypes.MemberAdded);
        Assert.Equal([recent[0].Id], Ids((await PageAsync(owner, orgId)).Data));
        Assert.Equal(1, await StoredRowsAsync(orgId));
    }

    private async Task<int> StoredRowsAsync(string orgId)
    {
        var count = 0;
        await foreach (var _ in App.Storage.Table(EventFeed.TableName).QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {orgId}")))
        {
            count++;
        }

        return count;
    }
}
