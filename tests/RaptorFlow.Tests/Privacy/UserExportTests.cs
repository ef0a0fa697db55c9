using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Tests.Fixtures;
using static RaptorFlow.Tests.Privacy.ExportTestKit;

namespace RaptorFlow.Tests.Privacy;

/// <summary>A user's own export, written by the standalone queue poller as on a developer machine.</summary>
public sealed class UserExportTests
{
    [Fact]
    public async Task The_standalone_poller_writes_a_users_export_whose_download_url_works_for_fifteen_minutes_only()
    {
        // The app's clock runs 20 minutes behind the storage emulator's: a URL it signs now expired 5 minutes ago.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(-20));
        await using var app = await TestApp.StartAsync(Settings(), clock: clock);
        var (owner, orgId) = await app.NewOrgAsync();
        var exportId = await owner.RequestExportAsync("/api/v1/me/exports");

        var export = await WaitUntilWrittenAsync(owner, exportId);
        Assert.Equal("ready", export.GetProperty("status").GetString());
        Assert.Equal(clock.GetUtcNow().AddMinutes(15), export.GetProperty("downloadUrlExpiresAt").GetDateTimeOffset());
        using (var http = new HttpClient())
        using (var stale = await http.GetAsync(new Uri(export.GetProperty("downloadUrl").GetString()!)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, stale.StatusCode);
        }

        clock.SetUtcNow(DateTimeOffset.UtcNow);
        var fresh = await owner.GetJsonAsync($"/api/v1/me/exports/{exportId}");
        Assert.NotEqual(export.GetProperty("downloadUrl").GetString(), fresh.GetProperty("downloadUrl").GetString());
        var archive = await DownloadAsync(fresh);

        var profile = Assert.Single(archive.Rows("profile.ndjson"));
        Assert.Equal(owner.Id, profile.GetProperty("userId").GetString());
        Assert.Equal(owner.Email, profile.GetProperty("email").GetString());
        var membership = Assert.Single(archive.Rows("memberships.ndjson"));
        Assert.Equal(orgId, membership.GetProperty("orgId").GetString());
        Assert.Equal("owner", membership.GetProperty("role").GetString());
        var created = Assert.Single(archive.Rows("audit-events.ndjson"), e => e.GetProperty("action").GetString() == "org.created");
        Assert.Equal(orgId, created.GetProperty("orgId").GetString());
        Assert.All(archive.Rows("audit-events.ndjson"), e => Assert.Equal(owner.Id, e.GetProperty("actorId").GetString()));
    }

    /// <summary>Polls as a client would until the poller has written the export.</summary>
    private static async Task<JsonElement> WaitUntilWrittenAsync(TestUser user, string exportId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var export = await user.GetJsonAsync($"/api/v1/me/exports/{exportId}");
            if (export.GetProperty("status").GetString() is "ready" or "failed" || DateTime.UtcNow > deadline)
            {
                return export;
            }

            await Task.Delay(200);
        }
    }
}
