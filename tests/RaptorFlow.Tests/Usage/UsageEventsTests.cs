using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using RaptorFlow.Functions.Usage;
using RaptorFlow.Tests.Fixtures;
using static RaptorFlow.Tests.Usage.UsageRequests;

namespace RaptorFlow.Tests.Usage;

public sealed class UsageEventsTests(UsageAppFixture fixture) : IClassFixture<UsageAppFixture>
{
    private TestApp App => fixture.App;

    private DateTimeOffset Now => fixture.Clock.GetUtcNow();

    private static string NewId() => "ev-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Batch_answers_a_result_per_event_and_one_bad_event_rejects_only_itself()
    {
        var (owner, orgId) = await fixture.App.NewOrgAsync();
        var good = NewId();
        var response = await owner.PostEventsAsync(orgId,
            Event(good, Now.AddMinutes(-1), 3),
            Event(good, Now, 5),
            Event("rf:forged", Now),
            Event("bad id with spaces", Now),
            new { id = NewId(), meter = "Api-Calls", quantity = 1, timestamp = Now.ToString("O") },
            new { id = NewId(), meter = "api_calls", quantity = 0, timestamp = Now.ToString("O") },
            new { id = NewId(), meter = "api_calls", quantity = 1.5, timestamp = Now.ToString("O") },
            new { id = NewId(), meter = "api_calls", quantity = "7", timestamp = Now.ToString("O") },
            new { id = NewId(), meter = "api_calls", quantity = 1, timestamp = "2026-11-23T10:00:00" },
            Event(NewId(), Now.AddDays(-35).AddMinutes(-1)),
            Event(NewId(), Now.AddMinutes(6)),
            new { id = NewId(), meter = "api_calls", quantity = 1, timestamp = Now.ToString("O"), extra = true },
            42,
            Event(NewId(), Now.AddDays(-34), 2, "storage_gb_hours"));

        var results = response.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(14, results.Count);
        string[] expected =
        [
            "accepted", "duplicate", "rejected:id.reserved", "rejected:id.invalid", "rejected:meter.invalid", "rejected:quantity.invalid",
            "rejected:quantity.invalid", "rejected:quantity.invalid", "rejected:timestamp.invalid", "rejected:timestamp.too_old",
            "rejected:timestamp.in_future", "rejected:event.invalid", "rejected:event.invalid", "accepted",
        ];
        for (var i = 0; i < expected.Length; i++)
        {
            var status = results[i].GetProperty("status").GetString();
            var reason = results[i].TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? ":" + r.GetString() : "";
            Assert.Equal(i, results[i].GetProperty("index").GetInt32());
            Assert.True(expected[i] == status + reason, $"event {i}: expected {expected[i]}, got {status}{reason}");
        }

        Assert.Equal(2, response.GetProperty("accepted").GetInt32());
        Assert.Equal(1, response.GetProperty("duplicates").GetInt32());
        Assert.Equal(11, response.GetProperty("rejected").GetInt32());

        await fixture.RollupAsync();
        var usage = await owner.GetUsageAsync(orgId, $"granularity=month&from={Iso(Now.AddDays(-40))}&to={Iso(Now.AddHours(1))}");
        Assert.Equal(3, usage.Points().Sum(p => p.Quantity));
        Assert.Equal(2, usage.Points("storage_gb_hours").Sum(p => p.Quantity));
    }

    [Fact]
    public async Task Replayed_batch_is_all_duplicates_and_counts_once()
    {
        var (owner, orgId) = await fixture.App.NewOrgAsync();
        var events = Enumerable.Range(0, 250).Select(i => Event(NewId(), Now.AddMinutes(-i % 50), i + 1)).ToArray();

        var first = await owner.PostEventsAsync(orgId, events);
        Assert.Equal(250, first.GetProperty("accepted").GetInt32());
        await fixture.RollupAsync();

        var replay = await owner.PostEventsAsync(orgId, events);
        Assert.Equal(0, replay.GetProperty("accepted").GetInt32());
        Assert.Equal(250, replay.GetProperty("duplicates").GetInt32());
        await fixture.RollupAsync();

        var usage = await owner.GetUsageAsync(orgId, $"granularity=hour&from={Iso(Now.AddHours(-2))}&to={Iso(Now.AddHours(1))}");
        Assert.Equal(250 * 251 / 2, usage.Points().Sum(p => p.Quantity));
    }

    [Fact]
    public async Task An_id_already_used_keeps_its_first_values_even_when_resent_with_others()
    {
        var (owner, orgId) = await fixture.App.NewOrgAsync();
        var id = NewId();
        await owner.PostEventsAsync(orgId, Event(id, Now.AddMinutes(-2), 10));
        var resent = await owner.PostEventsAsync(orgId, Event(id, Now.AddDays(-3), 999));
        Assert.Equal("duplicate", resent.GetProperty("results")[0].GetProperty("status").GetString());

        await fixture.RollupAsync();
        var usage = await owner.GetUsageAsync(orgId, $"granularity=day&from={Iso(Now.AddDays(-5))}&to={Iso(Now.AddDays(1))}");
        var point = Assert.Single(usage.Points());
        Assert.Equal(10, point.Quantity);
    }

    [Fact]
    public async Task The_same_id_in_another_org_is_that_orgs_own_event()
    {
        var (owner, orgA) = await fixture.App.NewOrgAsync();
        var orgB = await owner.CreateOrgAsync();
        var id = NewId();
        Assert.Equal(1, (await owner.PostEventsAsync(orgA, Event(id, Now, 4))).GetProperty("accepted").GetInt32());
        Assert.Equal(1, (await owner.PostEventsAsync(orgB, Event(id, Now, 6))).GetProperty("accepted").GetInt32());
        await fixture.RollupAsync();

        var window = $"granularity=hour&from={Iso(Now.AddHours(-1))}&to={Iso(Now.AddHours(1))}";
        Assert.Equal(4, (await owner.GetUsageAsync(orgA, window)).Points().Sum(p => p.Quantity));
        Assert.Equal(6, (await owner.GetUsageAsync(orgB, window)).Points().Sum(p => p.Quantity));
    }

    [Fact]
    public async Task Concurrent_batches_with_overlapping_ids_count_each_id_once()
    {
        var (owner, orgId) = await fixture.App.NewOrgAsync();
        var ids = Enumerable.Range(0, 120).Select(_ => NewId()).ToArray();
        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(k =>
            owner.PostEventsAsync(orgId, [.. ids.Skip(k * 20).Take(60).Select(id => Event(id, Now.AddMinutes(-1)))])));

        Assert.Equal(120, responses.Sum(r => r.GetProperty("accepted").GetInt32()));
        Assert.Equal(4 * 60 - 120, responses.Sum(r => r.GetProperty("duplicates").GetInt32()));
        await fixture.RollupAsync();
        var usage = await owner.GetUsageAsync(orgId, $"granularity=hour&from={Iso(Now.AddHours(-1))}&to={Iso(Now.AddHours(1))}");
        Assert.Equal(120, usage.Points().Sum(p => p.Quantity));
    }

    [Fact]
    public async Task Bad_batches_are_problems_and_store_nothing()
    {
        var (owner, orgId) = await fixture.App.NewOrgAsync();
        var url = new Uri($"/api/v1/orgs/{orgId}/usage-events", UriKind.Relative);

        using (var empty = await owner.Client.PostAsJsonAsync(url, new { events = Array.Empty<object>() }))
        {
            await empty.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
        }

        using (var tooMany = await owner.Client.PostAsJsonAsync(url, new { events = Enumerable.Range(0, 501).Select(_ => Event(NewId(), Now)).ToArray() }))
        {
            await tooMany.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
        }

        using (var malformed = await owner.Client.PostAsync(url, new StringContent("{\"events\": [", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
            Assert.Equal("application/problem+json", malformed.Content.Headers.ContentType?.MediaType);
        }

        using (var huge = await owner.Client.PostAsync(url, new StringContent("{\"events\":[\"" + new string('x', 600 * 1024) + "\"]}", Encoding.UTF8, "application/json")))
        {
            await huge.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "request.body_too_large");
        }

        await fixture.RollupAsync();
        var usage = await owner.GetUsageAsync(orgId, "granularity=month");
        Assert.Empty(usage.GetProperty("data").EnumerateArray());
    }

    [Fact]
    public async Task Another_orgs_usage_is_not_found_and_viewers_cannot_write_usage()
    {
        var (owner, orgId) = await fixture.App.NewOrgAsync();
        var stranger = await App.SignInAsync();
        using (var read = await stranger.Client.GetAsync(new Uri($"/api/v1/orgs/{orgId}/usage", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        }

        using (var write = await stranger.Client.PostAsJsonAsync(new Uri($"/api/v1/orgs/{orgId}/usage-events", UriKind.Relative), new { events = new[] { Event(NewId(), Now) } }))
        {
            Assert.Equal(HttpStatusCode.NotFound, write.StatusCode);
        }

        var viewer = await App.SignInAsync(email: $"viewer-{Guid.NewGuid():N}@example.test");
        await owner.AddMemberAsync(orgId, viewer, "viewer");
        using var denied = await viewer.Client.PostAsJsonAsync(new Uri($"/api/v1/orgs/{orgId}/usage-events", UriKind.Relative), new { events = new[] { Event(NewId(), Now) } });
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await viewer.Client.GetAsync(new Uri($"/api/v1/orgs/{orgId}/usage", UriKind.Relative))).StatusCode);
    }

    [Theory]
    [InlineData("granularity=week", "granularity")]
    [InlineData("meter=Bad-Meter", "meter")]
    [InlineData("from=yesterday", "from")]
    [InlineData("from=2026-11-01T00:00:00", "from")]
    [InlineData("granularity=hour&from=2026-01-01T00:00:00Z&to=2026-11-01T00:00:00Z", "from")]
    [InlineData("from=2026-11-10T00:00:00Z&to=2026-11-01T00:00:00Z", "to")]
    public async Task Bad_usage_queries_name_the_field(string query, string field)
    {
        var (owner, orgId) = await fixture.App.NewOrgAsync();
        using var response = await owner.Client.GetAsync(new Uri($"/api/v1/orgs/{orgId}/usage?{query}", UriKind.Relative));
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }
}
