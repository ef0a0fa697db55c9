using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Usage;
using static RaptorFlow.Tests.Usage.UsageRequests;

namespace RaptorFlow.Tests.Stats;

public sealed class OrgStatsTests(UsageAppFixture fixture) : IClassFixture<UsageAppFixture>
{
    private TestApp App => fixture.App;

    private static Uri Url(string path) => new(path, UriKind.Relative);

    [Fact]
    public async Task Stats_show_exactly_the_orgs_members_invitations_keys_and_usage()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        await owner.AddMemberAsync(orgId, await App.SignInAsync(), "admin");
        await owner.AddMemberAsync(orgId, await App.SignInAsync(), "viewer");
        await owner.AddMemberAsync(orgId, await App.SignInAsync(), "viewer");

        var invitations = new List<string>();
        foreach (var email in new[] { "a", "b", "c" })
        {
            using var invite = await owner.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/invitations"), new { email = $"{email}-{Guid.NewGuid():N}@example.test", role = "member" });
            Assert.Equal(HttpStatusCode.Created, invite.StatusCode);
            invitations.Add((await invite.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("invitation").GetProperty("id").GetString()!);
        }

        using (var revoke = await owner.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}/invitations/{invitations[0]}")))
        {
            Assert.True(revoke.IsSuccessStatusCode, await revoke.Content.ReadAsStringAsync());
        }

        var keys = new List<(string Id, string Secret)>();
        for (var i = 0; i < 3; i++)
        {
            using var create = await owner.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/api-keys"), new { name = $"key {i}", capabilities = new[] { "org:read" } });
            Assert.Equal(HttpStatusCode.Created, create.StatusCode);
            var issued = await create.Content.ReadFromJsonAsync<JsonElement>();
            keys.Add((issued.GetProperty("apiKey").GetProperty("id").GetString()!, issued.GetProperty("key").GetString()!));
        }

        using (var revoke = await owner.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}/api-keys/{keys[0].Id}")))
        {
            Assert.True(revoke.IsSuccessStatusCode, await revoke.Content.ReadAsStringAsync());
        }

        var now = fixture.Clock.GetUtcNow();
        await owner.PostEventsAsync(orgId, Event(Guid.NewGuid().ToString("N"), now, 5), Event(Guid.NewGuid().ToString("N"), now, 7));
        await fixture.RollupAsync();

        // Read with one of the org's live keys: the dashboard is for machines too.
        using var keyClient = App.CreateClient();
        keyClient.DefaultRequestHeaders.Add("X-Api-Key", keys[1].Secret);
        using var response = await keyClient.GetAsync(Url($"/api/v1/orgs/{orgId}/stats"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var stats = JsonDocument.Parse(body).RootElement;

        Assert.Equal(orgId, stats.GetProperty("orgId").GetString());
        var members = stats.GetProperty("members");
        Assert.Equal((4, 1, 1, 0, 2), (members.GetProperty("total").GetInt32(), members.GetProperty("owners").GetInt32(),
            members.GetProperty("admins").GetInt32(), members.GetProperty("members").GetInt32(), members.GetProperty("viewers").GetInt32()));
        Assert.Equal(2, stats.GetProperty("pendingInvitations").GetInt32());
        Assert.Equal(2, stats.GetProperty("activeApiKeys").GetInt32());

        var plans = JsonDocument.Parse(await App.Client.GetStringAsync(Url("/api/v1/plans"))).RootElement;
        var usage = stats.GetProperty("usage");
        var plan = plans.GetProperty("data").EnumerateArray().Single(p => p.GetProperty("id").GetString() == usage.GetProperty("planId").GetString());
        var included = plan.GetProperty("meters").GetProperty("api_calls").GetProperty("includedQuantity").GetInt64();
        var apiCalls = usage.GetProperty("meters").EnumerateArray().Single(m => m.GetProperty("meter").GetString() == "api_calls");
        Assert.Equal(12, apiCalls.GetProperty("used").GetInt64());
        Assert.Equal(included, apiCalls.GetProperty("included").GetInt64());
        Assert.Equal(Math.Max(0, 12 - included), apiCalls.GetProperty("overage").GetInt64());
        Assert.True(usage.GetProperty("periodStart").GetDateTimeOffset() <= now && now < usage.GetProperty("periodEnd").GetDateTimeOffset());

        Assert.Empty(stats.GetProperty("amountDue").EnumerateArray());
        Assert.All(stats.GetProperty("balances").EnumerateArray(), b => Assert.Equal(0, b.GetProperty("balanceMinor").GetInt64()));
    }

    [Fact]
    public async Task Another_orgs_stats_are_404_and_a_viewer_may_read_their_own()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var (stranger, _) = await App.NewOrgAsync();

        using var foreign = await stranger.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/stats"));
        await foreign.ShouldBeProblemAsync(HttpStatusCode.NotFound, "org.not_found");

        var viewer = await App.SignInAsync();
        await owner.AddMemberAsync(orgId, viewer, "viewer");
        using var own = await viewer.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/stats"));
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        var stats = await own.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, stats.GetProperty("members").GetProperty("total").GetInt32());
        Assert.Equal(0, stats.GetProperty("activeApiKeys").GetInt32());
    }
}
