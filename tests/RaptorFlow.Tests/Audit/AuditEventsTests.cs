using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Audit;

public sealed class AuditEventsTests(SignedInAppFixture fixture) : IClassFixture<SignedInAppFixture>
{
    private TestApp App => fixture.App;

    private static Uri Url(string path) => new(path, UriKind.Relative);

    private static async Task<List<JsonElement>> EventsAsync(TestUser reader, string orgId, string query = "")
    {
        var page = await reader.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/audit-events?limit=100{query}"));
        return [.. page.GetProperty("data").EnumerateArray()];
    }

    [Fact]
    public async Task Mutations_are_recorded_newest_first_with_actor_and_changes()
    {
        var owner = await App.SignInAsync(email: $"owner-{Guid.NewGuid():N}@example.test");
        var orgId = await owner.CreateOrgAsync("Audited");
        using var request = new HttpRequestMessage(HttpMethod.Patch, Url($"/api/v1/orgs/{orgId}")) { Content = JsonContent.Create(new { name = "Audited Again" }) };
        request.Headers.Add("x-request-id", "audit-test-request");
        using (var renamed = await owner.Client.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        }

        var events = await EventsAsync(owner, orgId);
        Assert.Equal(["org.updated", "org.created"], events.Select(e => e.GetProperty("action").GetString()));
        var updated = events[0];
        Assert.Equal("user", updated.GetProperty("actor").GetProperty("kind").GetString());
        Assert.Equal(owner.Id, updated.GetProperty("actor").GetProperty("id").GetString());
        Assert.Equal(owner.Email, updated.GetProperty("actor").GetProperty("email").GetString());
        Assert.Equal(orgId, updated.GetProperty("target").GetProperty("id").GetString());
        Assert.Equal("audit-test-request", updated.GetProperty("requestId").GetString());
        Assert.False(string.IsNullOrEmpty(updated.GetProperty("ip").GetString()));
        var name = updated.GetProperty("changes").GetProperty("name");
        Assert.Equal("Audited", name.GetProperty("before").GetString());
        Assert.Equal("Audited Again", name.GetProperty("after").GetString());
        Assert.StartsWith("evt_", updated.GetProperty("id").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Member_and_invitation_changes_are_recorded()
    {
        var owner = await App.SignInAsync();
        var member = await App.SignInAsync();
        var orgId = await owner.CreateOrgAsync();
        await owner.AddMemberAsync(orgId, member, "viewer");
        using (var changed = await owner.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{orgId}/members/{member.Id}"), new { role = "member" }))
        {
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        }

        using (var removed = await owner.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}/members/{member.Id}")))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }

        var actions = (await EventsAsync(owner, orgId)).Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Equal(["member.removed", "member.role_changed", "member.added", "invitation.accepted", "invitation.created", "org.created"], actions);
    }

    [Fact]
    public async Task Events_filter_by_action_and_actor_and_page_with_a_cursor()
    {
        var owner = await App.SignInAsync();
        var admin = await App.SignInAsync();
        var orgId = await owner.CreateOrgAsync();
        await owner.AddMemberAsync(orgId, admin, "admin");
        for (var i = 0; i < 3; i++)
        {
            using var renamed = await admin.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{orgId}"), new { name = $"Name {i}" });
            Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        }

        var byAction = await EventsAsync(owner, orgId, "&action=org.updated");
        Assert.Equal(3, byAction.Count);
        Assert.Equal(["Name 2", "Name 1", "Name 0"], byAction.Select(e => e.GetProperty("changes").GetProperty("name").GetProperty("after").GetString()));
        var byActor = await EventsAsync(owner, orgId, $"&actor=user:{admin.Id}");
        Assert.All(byActor, e => Assert.Equal(admin.Id, e.GetProperty("actor").GetProperty("id").GetString()));
        Assert.Contains(byActor, e => e.GetProperty("action").GetString() == "invitation.accepted");
        Assert.Empty(await EventsAsync(owner, orgId, $"&actor=user:{admin.Id}&action=org.created"));

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/audit-events?limit=2&action=org.updated"
                + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))));
            seen.AddRange(page.GetProperty("data").EnumerateArray().Select(e => e.GetProperty("id").GetString()!));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal(byAction.Select(e => e.GetProperty("id").GetString()!), seen);
    }

    [Fact]
    public async Task A_cursor_from_another_filter_is_rejected()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        for (var i = 0; i < 3; i++)
        {
            using var renamed = await owner.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{orgId}"), new { name = $"N{i}" });
        }

        var page = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/audit-events?limit=1"));
        var cursor = page.GetProperty("nextCursor").GetString()!;
        using var response = await owner.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/audit-events?action=org.updated&cursor={Uri.EscapeDataString(cursor)}"));
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
    }

    [Fact]
    public async Task Reading_the_audit_log_needs_audit_read()
    {
        var owner = await App.SignInAsync();
        var member = await App.SignInAsync();
        var orgId = await owner.CreateOrgAsync();
        await owner.AddMemberAsync(orgId, member, "member");
        using var response = await member.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/audit-events"));
        await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "auth.capability_missing");
    }

    [Theory]
    [InlineData("action=DROP%20TABLE")]
    [InlineData("actor=admin")]
    [InlineData("actor=user:a%27%20or%20true")]
    public async Task Bad_filters_are_400(string query)
    {
        var (owner, orgId) = await App.NewOrgAsync();
        using var response = await owner.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/audit-events?{query}"));
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
    }
}
