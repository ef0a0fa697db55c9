using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Tests.ApiKeys;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Events;

/// <summary>
/// Org, member, invitation and API key changes emit their events through the outbox: each change
/// shows up once in the org's feed, its data the resource as the API returns it; a change not
/// made emits nothing.
/// </summary>
[Collection(EventsCollection.Name)]
public sealed class AccessEventsTests(EventsAppFixture fixture)
{
    private TestApp App => fixture.App;

    private static Uri Url(string path) => new(path, UriKind.Relative);

    /// <summary>Dispatches what is on the queue, then the org's events of <paramref name="type"/>, newest first.</summary>
    private async Task<List<JsonElement>> FeedAsync(TestUser reader, string orgId, string type)
    {
        await fixture.DrainAsync();
        var page = await reader.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/events?limit=100&type={type}"));
        return [.. page.GetProperty("data").EnumerateArray()];
    }

    /// <summary>Exactly one event of <paramref name="type"/>, whose data is <paramref name="expected"/> (less the fields named).</summary>
    private async Task<JsonElement> ExactlyOneAsync(TestUser reader, string orgId, string type, JsonElement expected, params string[] except)
    {
        var events = await FeedAsync(reader, orgId, type);
        var only = Assert.Single(events);
        Assert.Equal(Without(expected, except).ToJsonString(), Without(only.GetProperty("data"), except).ToJsonString());
        return only;
    }

    private static JsonObject Without(JsonElement json, string[] names)
    {
        var node = JsonNode.Parse(json.GetRawText())!.AsObject();
        foreach (var name in names)
        {
            node.Remove(name);
        }

        return node;
    }

    private static async Task<JsonElement> GetAsync(TestUser user, string path) =>
        await user.Client.GetFromJsonAsync<JsonElement>(Url(path));

    private static async Task<JsonElement> OkJsonAsync(HttpResponseMessage response, HttpStatusCode status = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private Task<TestUser> SignInWithEmailAsync() => App.SignInAsync(email: $"u{Guid.NewGuid():N}@example.test");

    [Fact]
    public async Task Renaming_an_org_emits_one_org_updated_with_the_org_and_a_no_op_or_refused_patch_emits_none()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        using (var rename = await owner.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{orgId}"), new { name = "Renamed org" }))
        {
            await OkJsonAsync(rename);
        }

        using (var same = await owner.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{orgId}"), new { name = "Renamed org" }))
        {
            await OkJsonAsync(same);
        }

        using (var invalid = await owner.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{orgId}"), new { name = "" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        }

        using (var stale = new HttpRequestMessage(HttpMethod.Patch, Url($"/api/v1/orgs/{orgId}")) { Content = JsonContent.Create(new { name = "Stale" }) })
        {
            stale.Headers.TryAddWithoutValidation("If-Match", "\"stale\"");
            using var refused = await owner.Client.SendAsync(stale);
            Assert.Equal(HttpStatusCode.PreconditionFailed, refused.StatusCode);
        }

        // The org's role in the API's answer is the reader's; an event has no reader.
        var org = await GetAsync(owner, $"/api/v1/orgs/{orgId}");
        var emitted = await ExactlyOneAsync(owner, orgId, EventTypes.OrgUpdated, org, "role");
        Assert.Equal("Renamed org", emitted.GetProperty("data").GetProperty("name").GetString());
    }

    [Fact]
    public async Task Deleting_an_org_emits_one_org_deleted_with_the_org_as_it_was()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var org = await GetAsync(owner, $"/api/v1/orgs/{orgId}");
        using (var delete = await owner.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}")))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        // The feed of a deleted org answers 404, so read the dispatched event from the subscriber.
        await fixture.DrainAsync();
        var deleted = Assert.Single(fixture.Subscriber.Received, e => e.OrgId == orgId && e.Type == EventTypes.OrgDeleted);
        var data = deleted.Data;
        Assert.Equal(Without(org, ["role", "updatedAt"]).ToJsonString(), Without(data, ["role", "updatedAt", "deletedAt", "purgeAfter"]).ToJsonString());
        Assert.True(data.GetProperty("purgeAfter").GetDateTimeOffset() > data.GetProperty("deletedAt").GetDateTimeOffset());
        Assert.DoesNotContain(fixture.Subscriber.Received, e => e.OrgId == orgId && e.Type != EventTypes.OrgDeleted);
    }

    [Fact]
    public async Task An_invitation_emits_invitation_created_and_its_acceptance_invitation_accepted_and_member_added_once()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var invitee = await SignInWithEmailAsync();
        JsonElement created;
        using (var invite = await owner.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/invitations"), new { email = invitee.Email, role = "member" }))
        {
            created = await OkJsonAsync(invite, HttpStatusCode.Created);
        }

        var token = created.GetProperty("token").GetString();
        var invitation = created.GetProperty("invitation");
        Assert.DoesNotContain(token!, (await FeedAsync(owner, orgId, EventTypes.InvitationCreated))[0].GetRawText(), StringComparison.Ordinal);
        await ExactlyOneAsync(owner, orgId, EventTypes.InvitationCreated, invitation);

        using (var accept = await invitee.Client.PostAsJsonAsync(Url("/api/v1/invitations/accept"), new { token }))
        {
            await OkJsonAsync(accept);
        }

        using (var again = await invitee.Client.PostAsJsonAsync(Url("/api/v1/invitations/accept"), new { token }))
        {
            Assert.NotEqual(HttpStatusCode.InternalServerError, again.StatusCode);
        }

        var accepted = await ExactlyOneAsync(owner, orgId, EventTypes.InvitationAccepted, invitation, "status");
        Assert.Equal("accepted", accepted.GetProperty("data").GetProperty("status").GetString());
        var member = await GetAsync(owner, $"/api/v1/orgs/{orgId}/members/{invitee.Id}");
        await ExactlyOneAsync(owner, orgId, EventTypes.MemberAdded, member);
        Assert.Single(await FeedAsync(owner, orgId, EventTypes.InvitationCreated));
    }

    [Fact]
    public async Task A_role_change_emits_one_member_role_changed_and_the_same_role_again_none()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var member = await SignInWithEmailAsync();
        await owner.AddMemberAsync(orgId, member, "viewer");
        foreach (var role in new[] { "admin", "admin" })
        {
            using var change = await owner.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{orgId}/members/{member.Id}"), new { role });
            await OkJsonAsync(change);
        }

        using (var lastOwner = await owner.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{orgId}/members/{owner.Id}"), new { role = "admin" }))
        {
            Assert.Equal(HttpStatusCode.Conflict, lastOwner.StatusCode);
        }

        await ExactlyOneAsync(owner, orgId, EventTypes.MemberRoleChanged, await GetAsync(owner, $"/api/v1/orgs/{orgId}/members/{member.Id}"));
    }

    [Fact]
    public async Task An_ownership_transfer_emits_member_role_changed_for_both_members()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var heir = await SignInWithEmailAsync();
        await owner.AddMemberAsync(orgId, heir, "member");
        using (var transfer = await owner.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/transfer-ownership"), new { userId = heir.Id }))
        {
            await OkJsonAsync(transfer);
        }

        var events = await FeedAsync(heir, orgId, EventTypes.MemberRoleChanged);
        var expected = new[]
        {
            await GetAsync(heir, $"/api/v1/orgs/{orgId}/members/{heir.Id}"),
            await GetAsync(heir, $"/api/v1/orgs/{orgId}/members/{owner.Id}"),
        };
        Assert.Equal(
            expected.Select(e => e.GetRawText()).Order(StringComparer.Ordinal),
            events.Select(e => e.GetProperty("data").GetRawText()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Removing_a_member_and_leaving_each_emit_one_member_removed_with_the_member_as_they_were()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var removed = await SignInWithEmailAsync();
        var leaver = await SignInWithEmailAsync();
        await owner.AddMemberAsync(orgId, removed, "member");
        await owner.AddMemberAsync(orgId, leaver, "viewer");
        var before = new[]
        {
            await GetAsync(owner, $"/api/v1/orgs/{orgId}/members/{removed.Id}"),
            await GetAsync(owner, $"/api/v1/orgs/{orgId}/members/{leaver.Id}"),
        };

        using (var remove = await owner.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}/members/{removed.Id}")))
        {
            Assert.Equal(HttpStatusCode.NoContent, remove.StatusCode);
        }

        using (var leave = await leaver.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}/members/{leaver.Id}")))
        {
            Assert.Equal(HttpStatusCode.NoContent, leave.StatusCode);
        }

        using (var lastOwner = await owner.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}/members/{owner.Id}")))
        {
            Assert.Equal(HttpStatusCode.Conflict, lastOwner.StatusCode);
        }

        var events = await FeedAsync(owner, orgId, EventTypes.MemberRemoved);
        Assert.Equal(
            before.Select(e => e.GetRawText()).Order(StringComparer.Ordinal),
            events.Select(e => e.GetProperty("data").GetRawText()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Creating_rolling_and_revoking_a_key_each_emit_one_event_with_the_key_never_its_secret()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var idempotencyKey = Guid.NewGuid().ToString();
        JsonElement issued = default;
        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var create = new HttpRequestMessage(HttpMethod.Post, Url($"/api/v1/orgs/{orgId}/api-keys"))
            {
                Content = JsonContent.Create(new { name = "ci", capabilities = new[] { "org:read" } }),
            };
            create.Headers.Add("Idempotency-Key", idempotencyKey);
            using var response = await owner.Client.SendAsync(create);
            issued = await OkJsonAsync(response, HttpStatusCode.Created);
        }

        var keyId = issued.GetProperty("apiKey").GetProperty("id").GetString();
        var secret = issued.GetProperty("key").GetString()!;
        var keyPath = $"/api/v1/orgs/{orgId}/api-keys/{keyId}";
        var created = await ExactlyOneAsync(owner, orgId, EventTypes.ApiKeyCreated, await GetAsync(owner, keyPath));
        Assert.DoesNotContain(secret, created.GetRawText(), StringComparison.Ordinal);

        JsonElement rolled;
        using (var roll = await owner.Client.PostAsJsonAsync(Url($"{keyPath}/roll"), new { expireOldInSeconds = 60 }))
        {
            rolled = await OkJsonAsync(roll);
        }

        var rolledEvent = await ExactlyOneAsync(owner, orgId, EventTypes.ApiKeyRolled, await GetAsync(owner, keyPath));
        Assert.DoesNotContain(rolled.GetProperty("key").GetString()!, rolledEvent.GetRawText(), StringComparison.Ordinal);

        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var revoke = await owner.Client.DeleteAsync(Url(keyPath));
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        await ExactlyOneAsync(owner, orgId, EventTypes.ApiKeyRevoked, await GetAsync(owner, keyPath));
        Assert.Single(await FeedAsync(owner, orgId, EventTypes.ApiKeyCreated));
    }

    [Fact]
    public async Task Outbox_rows_left_in_the_key_partition_by_a_crash_before_dispatch_are_not_listed_as_keys()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var keyId = (await owner.CreateKeyAsync(orgId, "org:read")).Id;

        // A change committed with its outbox row, and the process died before publishing it.
        var now = fixture.Clock.GetUtcNow();
        var staged = await fixture.Outbox.StageAsync(
            orgId, EventTypes.OrgUpdated, new OrganizationResponse(orgId, "Org", "org-x", now, now, null), "ApiKeys", orgId, default);
        await App.Storage.Table("ApiKeys").SubmitTransactionAsync([staged.Action]);

        var page = await GetAsync(owner, $"/api/v1/orgs/{orgId}/api-keys?limit=100");
        Assert.Equal([keyId], page.GetProperty("data").EnumerateArray().Select(k => k.GetProperty("id").GetString()));
    }
}
