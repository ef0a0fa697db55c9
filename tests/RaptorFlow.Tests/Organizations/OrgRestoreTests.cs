using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Functions.Privacy;
using RaptorFlow.Tests.Fixtures;
using static RaptorFlow.Tests.Privacy.ExportTestKit;

namespace RaptorFlow.Tests.Organizations;

/// <summary>Deleted orgs within their grace: gone for every route but the owner's restore.</summary>
public sealed class OrgRestoreTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(Settings(), clock: _clock, hostDrivesTriggers: true);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static async Task DeleteAsync(TestUser owner, string orgId)
    {
        using var deleted = await owner.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}"));
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await owner.Client.GetAsync(Url($"/api/v1/orgs/{orgId}"));
        await gone.ShouldBeProblemAsync(HttpStatusCode.NotFound, "org.not_found");
    }

    private async Task<List<string>> PurgeEntriesAsync(string orgId)
    {
        var entries = new List<string>();
        await foreach (var entry in _app.Services.GetRequiredService<OrgPurgeSchedule>().OfOrgAsync(orgId, CancellationToken.None))
        {
            entries.Add($"{entry.Stage}@{entry.DueAt:O}");
        }

        return entries;
    }

    [Fact]
    public async Task An_owner_restores_a_deleted_org_within_its_grace_and_the_restore_is_audited_and_unschedules_the_purge()
    {
        var (owner, orgId) = await _app.NewOrgAsync("Restorable");
        var deletedAt = _clock.GetUtcNow();
        await DeleteAsync(owner, orgId);
        var purgeAfter = new DateTimeOffset(deletedAt.AddDays(30).UtcTicks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
        Assert.Equal([$"Org@{purgeAfter:O}"], await PurgeEntriesAsync(orgId));
        using (var update = await owner.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{orgId}"), new { name = "Still gone" }))
        {
            await update.ShouldBeProblemAsync(HttpStatusCode.NotFound, "org.not_found");
        }

        _clock.Advance(TimeSpan.FromDays(29));
        owner = await _app.SignInAsync(owner.Id, owner.Email);
        var key = Guid.NewGuid().ToString();
        using var restored = await owner.PostAsync($"/api/v1/orgs/{orgId}/restore", key);
        Assert.True(restored.StatusCode == HttpStatusCode.OK, await restored.Content.ReadAsStringAsync());
        var org = await restored.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(orgId, org.GetProperty("id").GetString());
        Assert.Equal("owner", org.GetProperty("role").GetString());
        Assert.False(org.TryGetProperty("deletedAt", out _));
        using (var replay = await owner.PostAsync($"/api/v1/orgs/{orgId}/restore", key))
        {
            Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
            Assert.Equal("true", replay.Headers.GetValues("Idempotency-Replayed").Single());
        }

        Assert.Equal("Restorable", (await owner.GetJsonAsync($"/api/v1/orgs/{orgId}")).GetProperty("name").GetString());
        var audit = (await owner.GetJsonAsync($"/api/v1/orgs/{orgId}/audit-events?action=org.restored")).GetProperty("data");
        Assert.Equal(owner.Id, Assert.Single(audit.EnumerateArray()).GetProperty("actor").GetProperty("id").GetString());
        Assert.Empty(await PurgeEntriesAsync(orgId));

        using var again = await owner.PostAsync($"/api/v1/orgs/{orgId}/restore");
        await again.ShouldBeProblemAsync(HttpStatusCode.Conflict, "org.not_deleted");
    }

    [Fact]
    public async Task Restoring_once_the_grace_has_ended_is_409_grace_ended()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        await DeleteAsync(owner, orgId);

        _clock.Advance(TimeSpan.FromDays(30));
        owner = await _app.SignInAsync(owner.Id, owner.Email);
        using var late = await owner.PostAsync($"/api/v1/orgs/{orgId}/restore");

        await late.ShouldBeProblemAsync(HttpStatusCode.Conflict, "org.grace_ended");
        using var gone = await owner.Client.GetAsync(Url($"/api/v1/orgs/{orgId}"));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Only_an_owner_restores_a_member_who_is_not_one_gets_403_and_a_stranger_or_a_key_gets_404()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var admin = await _app.SignInAsync();
        await owner.AddMemberAsync(orgId, admin, "admin");
        using var created = await owner.PostAsync($"/api/v1/orgs/{orgId}/api-keys", body: new { name = "ops", capabilities = new[] { "org:read", "org:delete" } });
        var secret = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        var (stranger, _) = await _app.NewOrgAsync();
        await DeleteAsync(owner, orgId);

        using (var byAdmin = await admin.PostAsync($"/api/v1/orgs/{orgId}/restore"))
        {
            await byAdmin.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "auth.capability_missing");
        }

        using (var byStranger = await stranger.PostAsync($"/api/v1/orgs/{orgId}/restore"))
        {
            await byStranger.ShouldBeProblemAsync(HttpStatusCode.NotFound, "org.not_found");
        }

        using var client = _app.CreateClient();
        using var byKey = new HttpRequestMessage(HttpMethod.Post, Url($"/api/v1/orgs/{orgId}/restore")) { Content = JsonContent.Create(new { }) };
        byKey.Headers.Add("X-Api-Key", secret);
        using (var answer = await client.SendAsync(byKey))
        {
            Assert.NotEqual(HttpStatusCode.OK, answer.StatusCode);
        }

        using var unknown = await owner.PostAsync($"/api/v1/orgs/org_{new string('0', 26)}/restore");
        await unknown.ShouldBeProblemAsync(HttpStatusCode.NotFound, "org.not_found");
        Assert.Single(await PurgeEntriesAsync(orgId));
    }
}
