using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Privacy;
using RaptorFlow.Tests.Fixtures;
using static RaptorFlow.Tests.Privacy.ExportTestKit;

namespace RaptorFlow.Tests.Privacy;

/// <summary>Org exports, written by the queue function as the Functions host invokes it.</summary>
public sealed class OrgExportTests : IAsyncLifetime
{
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(Settings(), hostDrivesTriggers: true);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task An_org_export_holds_the_orgs_data_field_by_field_as_the_api_shows_it_and_no_secret_hash_or_token()
    {
        var (owner, orgId) = await _app.NewOrgAsync("Export Co");
        var admin = await _app.SignInAsync(name: "Asha Admin");
        await owner.AddMemberAsync(orgId, admin, "admin");
        using var invite = await owner.PostAsync($"/api/v1/orgs/{orgId}/invitations", body: new { email = $"pending-{Guid.NewGuid():N}@example.test", role = "viewer" });
        Assert.Equal(HttpStatusCode.Created, invite.StatusCode);
        var invitationToken = (await invite.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        using var key = await owner.PostAsync($"/api/v1/orgs/{orgId}/api-keys", body: new { name = "CI", capabilities = new[] { "usage:write" } });
        Assert.Equal(HttpStatusCode.Created, key.StatusCode);
        var keySecret = (await key.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        using var hook = await owner.PostAsync($"/api/v1/orgs/{orgId}/webhook-endpoints", body: new { url = "https://hooks.example.com/raptorflow" });
        Assert.Equal(HttpStatusCode.Created, hook.StatusCode);
        var hookSecret = (await hook.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;
        using var usage = await owner.PostAsync($"/api/v1/orgs/{orgId}/usage-events",
            body: new { events = new[] { new { id = "evt-export-1", meter = "api_calls", quantity = 3, timestamp = DateTimeOffset.UtcNow.ToString("O") } } });
        Assert.True(usage.IsSuccessStatusCode, await usage.Content.ReadAsStringAsync());

        var idempotencyKey = Guid.NewGuid().ToString();
        using var first = await admin.PostAsync($"/api/v1/orgs/{orgId}/exports", idempotencyKey);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var queued = await first.Content.ReadFromJsonAsync<JsonElement>();
        var exportId = queued.GetProperty("id").GetString()!;
        Assert.Equal("queued", queued.GetProperty("status").GetString());
        Assert.False(queued.TryGetProperty("downloadUrl", out _));
        Assert.Equal($"/api/v1/orgs/{orgId}/exports/{exportId}", first.Headers.Location?.ToString());
        using (var replay = await admin.PostAsync($"/api/v1/orgs/{orgId}/exports", idempotencyKey))
        {
            Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
            Assert.Equal(exportId, (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
        }

        Assert.Single(await _app.DrainQueueAsync(WriteExport.FunctionName));
        var export = await admin.GetJsonAsync($"/api/v1/orgs/{orgId}/exports/{exportId}");
        var archive = await DownloadAsync(export);

        Assert.Equal(archive.Size, export.GetProperty("sizeBytes").GetInt64());
        var manifest = archive.Manifest;
        Assert.Equal(ExportContents.SchemaVersion, manifest.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(exportId, manifest.GetProperty("exportId").GetString());
        var listed = manifest.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(archive.Files.Keys.Where(f => f != ExportArchive.ManifestName).Order(), listed.Select(f => f.GetProperty("name").GetString()!).Order());
        foreach (var file in listed)
        {
            var name = file.GetProperty("name").GetString()!;
            Assert.Equal(ExportArchiveFiles.Sha256(archive.Files[name]), file.GetProperty("sha256").GetString());
            Assert.Equal(archive.Rows(name).Count, file.GetProperty("count").GetInt64());
        }

        Assert.Equal(listed.Sum(f => f.GetProperty("count").GetInt64()), export.GetProperty("items").GetInt64());

        var org = await owner.GetJsonAsync($"/api/v1/orgs/{orgId}");
        var orgRow = Assert.Single(archive.Rows("org.ndjson"));
        SameText(org, "name", orgRow, "name");
        SameText(org, "slug", orgRow, "slug");
        SameTime(org, "createdAt", orgRow, "createdAt");

        var members = (await owner.GetJsonAsync($"/api/v1/orgs/{orgId}/members?limit=100")).GetProperty("data").EnumerateArray().ToList();
        var exportedMembers = archive.Rows("members.ndjson").ToDictionary(m => m.GetProperty("userId").GetString()!);
        Assert.Equal(members.Count, exportedMembers.Count);
        foreach (var member in members)
        {
            var row = exportedMembers[member.GetProperty("userId").GetString()!];
            SameText(member, "role", row, "role");
            SameText(member, "email", row, "email");
            SameText(member, "name", row, "name");
            SameTime(member, "joinedAt", row, "joinedAt");
        }

        var pending = (await owner.GetJsonAsync($"/api/v1/orgs/{orgId}/invitations")).GetProperty("data").EnumerateArray().ToList();
        var exportedInvitations = archive.Rows("invitations.ndjson").ToDictionary(i => i.GetProperty("invitationId").GetString()!);
        Assert.Equal(2, exportedInvitations.Count); // the admin's accepted one and the pending one
        foreach (var invitation in pending)
        {
            var row = exportedInvitations[invitation.GetProperty("id").GetString()!];
            SameText(invitation, "email", row, "email");
            SameText(invitation, "role", row, "role");
            SameText(invitation, "status", row, "status");
            SameText(invitation, "invitedBy", row, "invitedBy");
            SameTime(invitation, "expiresAt", row, "expiresAt");
        }

        var keys = (await owner.GetJsonAsync($"/api/v1/orgs/{orgId}/api-keys")).GetProperty("data").EnumerateArray().ToList();
        var exportedKey = Assert.Single(archive.Rows("api-keys.ndjson"));
        SameText(Assert.Single(keys), "id", exportedKey, "rowKey");
        SameText(keys[0], "name", exportedKey, "name");
        SameText(keys[0], "prefix", exportedKey, "displayPrefix");
        Assert.Equal(string.Join(' ', keys[0].GetProperty("capabilities").EnumerateArray().Select(c => c.GetString())), exportedKey.GetProperty("capabilities").GetString());

        var endpoints = (await owner.GetJsonAsync($"/api/v1/orgs/{orgId}/webhook-endpoints")).GetProperty("data").EnumerateArray().ToList();
        var exportedEndpoint = Assert.Single(archive.Rows("webhook-endpoints.ndjson"));
        SameText(Assert.Single(endpoints), "id", exportedEndpoint, "rowKey");
        SameText(endpoints[0], "url", exportedEndpoint, "url");

        var audit = (await owner.GetJsonAsync($"/api/v1/orgs/{orgId}/audit-events?limit=100")).GetProperty("data").EnumerateArray().ToList();
        var exportedAudit = archive.Rows("audit-events.ndjson").ToDictionary(e => e.GetProperty("eventId").GetString()!);
        Assert.Contains("org.export_requested", exportedAudit.Values.Select(e => e.GetProperty("action").GetString()));
        foreach (var entry in audit.Where(e => exportedAudit.ContainsKey(e.GetProperty("id").GetString()!)))
        {
            var row = exportedAudit[entry.GetProperty("id").GetString()!];
            SameText(entry, "action", row, "action");
            SameText(entry.GetProperty("actor"), "id", row, "actorId");
            SameText(entry.GetProperty("target"), "id", row, "targetId");
            SameTime(entry, "occurredAt", row, "occurredAt");
        }

        Assert.True(audit.Count(e => e.GetProperty("action").GetString() != "org.export_requested") <= exportedAudit.Count);
        var usageEvent = Assert.Single(archive.Rows("usage-events.ndjson"));
        Assert.Equal("evt-export-1", usageEvent.GetProperty("rowKey").GetString());
        Assert.Equal(3, usageEvent.GetProperty("quantity").GetInt64());

        var text = archive.AllText;
        Assert.DoesNotContain(invitationToken, text, StringComparison.Ordinal);
        Assert.DoesNotContain(keySecret, text, StringComparison.Ordinal);
        Assert.DoesNotContain(hookSecret, text, StringComparison.Ordinal);
        foreach (var stored in await StoredCredentialsAsync(orgId))
        {
            Assert.DoesNotContain(stored, text, StringComparison.Ordinal);
        }

        foreach (var file in archive.Files.Keys.Where(f => f.EndsWith(".ndjson", StringComparison.Ordinal)))
        {
            foreach (var row in archive.Rows(file))
            {
                Assert.DoesNotContain(row.EnumerateObject(), p => ExportArchive.IsWithheld(p.Name));
            }
        }
    }

    [Fact]
    public async Task Another_orgs_export_is_not_found_and_members_below_admin_may_not_export()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var exportId = await owner.RequestExportAsync($"/api/v1/orgs/{orgId}/exports");
        var (stranger, strangerOrg) = await _app.NewOrgAsync();

        using (var elsewhere = await stranger.Client.GetAsync(Url($"/api/v1/orgs/{strangerOrg}/exports/{exportId}")))
        {
            await elsewhere.ShouldBeProblemAsync(HttpStatusCode.NotFound, "export.not_found");
        }

        using (var foreign = await stranger.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/exports/{exportId}")))
        {
            Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        }

        using (var foreignPost = await stranger.PostAsync($"/api/v1/orgs/{orgId}/exports"))
        {
            Assert.Equal(HttpStatusCode.NotFound, foreignPost.StatusCode);
        }

        using (var notMine = await owner.Client.GetAsync(Url($"/api/v1/me/exports/{exportId}")))
        {
            await notMine.ShouldBeProblemAsync(HttpStatusCode.NotFound, "export.not_found");
        }

        var member = await _app.SignInAsync();
        await owner.AddMemberAsync(orgId, member, "member");
        using (var refused = await member.PostAsync($"/api/v1/orgs/{orgId}/exports"))
        {
            await refused.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "auth.capability_missing");
        }

        using var unread = await member.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/exports/{exportId}"));
        await unread.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "auth.capability_missing");
    }

    [Fact]
    public async Task The_expiry_timer_deletes_exports_and_their_archives_after_seven_days()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var exportId = await owner.RequestExportAsync($"/api/v1/orgs/{orgId}/exports");
        Assert.Single(await _app.DrainQueueAsync(WriteExport.FunctionName));
        var blob = _app.Storage.Container(ExportBook.Container).GetBlobClient(ExportKeys.BlobName(orgId, exportId));
        Assert.True((await blob.ExistsAsync()).Value);

        // The entry is due seven days on; the timer reads the due range by the app's clock, so move the entry back instead.
        var table = _app.Storage.Table(ExportKeys.TableName);
        var entry = await table.QueryAsync<ExportExpiryRow>(TableClient.CreateQueryFilter($"PartitionKey eq {ExportKeys.ExpiryPartition} and ExportId eq {exportId}")).SingleAsync();
        await table.DeleteEntityAsync(entry);
        entry.RowKey = ExportKeys.ExpiryRowKey(DateTimeOffset.UtcNow.AddMinutes(-1), orgId, exportId);
        await table.AddEntityAsync(entry);

        using (var timer = await _app.InvokeAsync(ExpireExports.FunctionName, HostInvocations.TimerEnvelope()))
        {
            Assert.True(timer.IsSuccessStatusCode, await timer.Content.ReadAsStringAsync());
        }

        Assert.False((await blob.ExistsAsync()).Value);
        using var gone = await owner.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/exports/{exportId}"));
        await gone.ShouldBeProblemAsync(HttpStatusCode.NotFound, "export.not_found");
    }

    [Fact]
    public async Task A_queue_message_naming_no_export_completes_without_writing()
    {
        using var response = await _app.InvokeAsync(WriteExport.FunctionName,
            HostInvocations.QueueTextEnvelope(JsonSerializer.Serialize(new { partition = "org_unknown", exportId = "exp_unknown" })));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Every stored value of a hash, secret or token column of the org's rows.</summary>
    private async Task<List<string>> StoredCredentialsAsync(string orgId)
    {
        var values = new List<string>();
        foreach (var table in new[] { "Orgs", "ApiKeys", "WebhookEndpoints" })
        {
            await foreach (var row in _app.Storage.Table(table).QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {orgId}")))
            {
                values.AddRange(row.Where(p => ExportArchive.IsCredential(p.Key) && p.Value is string { Length: > 8 }).Select(p => (string)p.Value));
            }
        }

        Assert.NotEmpty(values);
        return values;
    }

    private static void SameText(JsonElement api, string apiName, JsonElement exported, string exportedName)
    {
        var expected = api.TryGetProperty(apiName, out var a) && a.ValueKind != JsonValueKind.Null ? a.GetString() : null;
        var actual = exported.TryGetProperty(exportedName, out var e) && e.ValueKind != JsonValueKind.Null ? e.GetString() : null;
        Assert.True(expected == actual, $"{apiName}: API '{expected}', export {exportedName} '{actual}'");
    }

    private static void SameTime(JsonElement api, string apiName, JsonElement exported, string exportedName) =>
        Assert.Equal(api.GetProperty(apiName).GetDateTimeOffset(), exported.GetProperty(exportedName).GetDateTimeOffset());
}
