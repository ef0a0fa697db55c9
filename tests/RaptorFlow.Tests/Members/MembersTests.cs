using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Members;

public sealed class MembersTests(SignedInAppFixture fixture) : IClassFixture<SignedInAppFixture>
{
    private TestApp App => fixture.App;

    private static Uri Url(string path) => new(path, UriKind.Relative);

    private async Task<(string OrgId, TestUser Owner, TestUser Admin, TestUser Member, TestUser Viewer)> OrgWithEveryRoleAsync()
    {
        var owner = await App.SignInAsync();
        var admin = await App.SignInAsync();
        var member = await App.SignInAsync();
        var viewer = await App.SignInAsync();
        var orgId = await owner.CreateOrgAsync();
        await owner.AddMemberAsync(orgId, admin, "admin");
        await owner.AddMemberAsync(orgId, member, "member");
        await owner.AddMemberAsync(orgId, viewer, "viewer");
        return (orgId, owner, admin, member, viewer);
    }

    private static async Task<string?> RoleOfAsync(TestUser reader, string orgId, string userId)
    {
        using var response = await reader.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/members/{userId}"));
        return response.StatusCode == HttpStatusCode.NotFound
            ? null
            : (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("role").GetString();
    }

    private static Task<HttpResponseMessage> SetRoleAsync(TestUser actor, string orgId, string userId, string role) =>
        actor.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{orgId}/members/{userId}"), new { role });

    [Fact]
    public async Task Members_list_shows_every_role()
    {
        var (orgId, owner, admin, member, viewer) = await OrgWithEveryRoleAsync();
        var list = await viewer.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/members"));
        var roles = list.GetProperty("data").EnumerateArray().ToDictionary(m => m.GetProperty("userId").GetString()!, m => m.GetProperty("role").GetString());
        Assert.Equal("owner", roles[owner.Id]);
        Assert.Equal("admin", roles[admin.Id]);
        Assert.Equal("member", roles[member.Id]);
        Assert.Equal("viewer", roles[viewer.Id]);
    }

    [Fact]
    public async Task Admin_changes_roles_below_owner()
    {
        var (orgId, _, admin, member, _) = await OrgWithEveryRoleAsync();
        using var response = await SetRoleAsync(admin, orgId, member.Id, "viewer");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("viewer", await RoleOfAsync(admin, orgId, member.Id));
    }

    [Fact]
    public async Task Admin_cannot_change_an_owner_or_grant_owner()
    {
        var (orgId, owner, admin, member, _) = await OrgWithEveryRoleAsync();
        using var demote = await SetRoleAsync(admin, orgId, owner.Id, "admin");
        await demote.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "member.owner_protected");
        using var grant = await SetRoleAsync(admin, orgId, member.Id, "owner");
        await grant.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "member.owner_protected");
        using var remove = await admin.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}/members/{owner.Id}"));
        await remove.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "member.owner_protected");
        Assert.Equal("owner", await RoleOfAsync(owner, orgId, owner.Id));
        Assert.Equal("member", await RoleOfAsync(owner, orgId, member.Id));
    }

    [Fact]
    public async Task Members_and_viewers_cannot_manage_members()
    {
        var (orgId, _, _, member, viewer) = await OrgWithEveryRoleAsync();
        using var byMember = await SetRoleAsync(member, orgId, viewer.Id, "member");
        await byMember.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "auth.capability_missing");
        using var removeByViewer = await viewer.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}/members/{member.Id}"));
        await removeByViewer.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "auth.capability_missing");
        Assert.Equal("viewer", await RoleOfAsync(member, orgId, viewer.Id));
        Assert.Equal("member", await RoleOfAsync(member, orgId, member.Id));
    }

    [Fact]
    public async Task The_last_owner_cannot_be_demoted_or_leave()
    {
        var (orgId, owner, _, _, _) = await OrgWithEveryRoleAsync();
        using var demote = await SetRoleAsync(owner, orgId, owner.Id, "admin");
        await demote.ShouldBeProblemAsync(HttpStatusCode.Conflict, "member.last_owner");
        using var leave = await owner.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}/members/{owner.Id}"));
        await leave.ShouldBeProblemAsync(HttpStatusCode.Conflict, "member.last_owner");
        Assert.Equal("owner", await RoleOfAsync(owner, orgId, owner.Id));
    }

    [Fact]
    public async Task An_owner_can_step_down_once_another_owner_exists()
    {
        var (orgId, owner, admin, _, _) = await OrgWithEveryRoleAsync();
        using var promote = await SetRoleAsync(owner, orgId, admin.Id, "owner");
        Assert.Equal(HttpStatusCode.OK, promote.StatusCode);
        using var stepDown = await SetRoleAsync(owner, orgId, owner.Id, "member");
        Assert.Equal(HttpStatusCode.OK, stepDown.StatusCode);
        using var lastOne = await SetRoleAsync(admin, orgId, admin.Id, "admin");
        await lastOne.ShouldBeProblemAsync(HttpStatusCode.Conflict, "member.last_owner");
    }

    [Fact]
    public async Task Two_owners_stepping_down_at_once_leave_one_owner_and_the_other_is_told_last_owner()
    {
        // Each owner changes only their own role, so whichever commits second (raced or not) finds
        // itself the last owner: the 409 is owed on every run, not only when the requests overlap.
        for (var round = 0; round < 3; round++)
        {
            var (orgId, owner, admin, _, _) = await OrgWithEveryRoleAsync();
            using (var promote = await SetRoleAsync(owner, orgId, admin.Id, "owner"))
            {
                Assert.Equal(HttpStatusCode.OK, promote.StatusCode);
            }

            var a = SetRoleAsync(owner, orgId, owner.Id, "admin");
            var b = SetRoleAsync(admin, orgId, admin.Id, "admin");
            using var ra = await a;
            using var rb = await b;
            var statuses = new[] { ra.StatusCode, rb.StatusCode };
            Assert.Single(statuses, HttpStatusCode.OK);
            await (ra.StatusCode == HttpStatusCode.OK ? rb : ra).ShouldBeProblemAsync(HttpStatusCode.Conflict, "member.last_owner");
            var roles = new[] { await RoleOfAsync(owner, orgId, owner.Id), await RoleOfAsync(owner, orgId, admin.Id) };
            Assert.Single(roles, "owner");
        }
    }

    [Fact]
    public async Task Two_owners_demoting_each_other_at_once_leave_one_owner()
    {
        for (var round = 0; round < 3; round++)
        {
            var (orgId, owner, admin, _, _) = await OrgWithEveryRoleAsync();
            using (var promote = await SetRoleAsync(owner, orgId, admin.Id, "owner"))
            {
                Assert.Equal(HttpStatusCode.OK, promote.StatusCode);
            }

            var a = SetRoleAsync(owner, orgId, admin.Id, "admin");
            var b = SetRoleAsync(admin, orgId, owner.Id, "admin");
            using var ra = await a;
            using var rb = await b;

            // Exactly one demotion commits. The other is refused: as the last owner's demotion (409) when
            // both were authorised as owners, or as an admin touching an owner (403) when it was authorised
            // after the first committed.
            Assert.Single(new[] { ra.StatusCode, rb.StatusCode }, HttpStatusCode.OK);
            var loser = ra.StatusCode == HttpStatusCode.OK ? rb : ra;
            var problem = await loser.Content.ReadFromJsonAsync<JsonElement>();
            var refusal = (loser.StatusCode, problem.GetProperty("code").GetString()!);
            Assert.Contains(refusal, new[] { (HttpStatusCode.Conflict, "member.last_owner"), (HttpStatusCode.Forbidden, "member.owner_protected") });
            var roles = new[] { await RoleOfAsync(owner, orgId, owner.Id), await RoleOfAsync(owner, orgId, admin.Id) };
            Assert.Single(roles, "owner");

            // The stored owner count agrees: the survivor is the last owner.
            var survivor = roles[0] == "owner" ? owner : admin;
            using var stepDown = await SetRoleAsync(survivor, orgId, survivor.Id, "admin");
            await stepDown.ShouldBeProblemAsync(HttpStatusCode.Conflict, "member.last_owner");
        }
    }

    [Fact]
    public async Task A_member_may_leave_and_then_loses_access()
    {
        var (orgId, owner, _, member, _) = await OrgWithEveryRoleAsync();
        using var leave = await member.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}/members/{member.Id}"));
        Assert.Equal(HttpStatusCode.NoContent, leave.StatusCode);

        using var after = await member.Client.GetAsync(Url($"/api/v1/orgs/{orgId}"));
        await after.ShouldBeProblemAsync(HttpStatusCode.NotFound, "org.not_found");
        var me = await member.Client.GetFromJsonAsync<JsonElement>(Url("/api/v1/me"));
        Assert.Equal(0, me.GetProperty("orgs").GetArrayLength());
        Assert.Null(await RoleOfAsync(owner, orgId, member.Id));
    }

    [Fact]
    public async Task Admin_removes_a_member()
    {
        var (orgId, _, admin, member, _) = await OrgWithEveryRoleAsync();
        using var removed = await admin.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}/members/{member.Id}"));
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        using var again = await admin.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}/members/{member.Id}"));
        await again.ShouldBeProblemAsync(HttpStatusCode.NotFound, "member.not_found");
    }

    [Fact]
    public async Task Transfer_ownership_swaps_roles()
    {
        var (orgId, owner, _, member, _) = await OrgWithEveryRoleAsync();
        using var transfer = await owner.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/transfer-ownership"), new { userId = member.Id });
        Assert.Equal(HttpStatusCode.OK, transfer.StatusCode);
        Assert.Equal("owner", await RoleOfAsync(owner, orgId, member.Id));
        Assert.Equal("admin", await RoleOfAsync(owner, orgId, owner.Id));

        // The new owner is now the only one.
        using var demote = await SetRoleAsync(member, orgId, member.Id, "admin");
        await demote.ShouldBeProblemAsync(HttpStatusCode.Conflict, "member.last_owner");
    }

    [Fact]
    public async Task Transfer_needs_an_owner_and_an_existing_member()
    {
        var (orgId, owner, admin, _, _) = await OrgWithEveryRoleAsync();
        var stranger = await App.SignInAsync();
        using var byAdmin = await admin.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/transfer-ownership"), new { userId = admin.Id });
        await byAdmin.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "auth.capability_missing");
        using var toStranger = await owner.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/transfer-ownership"), new { userId = stranger.Id });
        await toStranger.ShouldBeProblemAsync(HttpStatusCode.NotFound, "member.not_found");
        using var toSelf = await owner.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/transfer-ownership"), new { userId = owner.Id });
        await toSelf.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
        Assert.Equal("owner", await RoleOfAsync(owner, orgId, owner.Id));
    }

    [Fact]
    public async Task Member_patch_honours_if_match()
    {
        var (orgId, owner, _, member, _) = await OrgWithEveryRoleAsync();
        using var get = await owner.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/members/{member.Id}"));
        var etag = get.Headers.ETag!;
        using (var changed = await SetRoleAsync(owner, orgId, member.Id, "viewer"))
        {
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        }

        using var stale = new HttpRequestMessage(HttpMethod.Patch, Url($"/api/v1/orgs/{orgId}/members/{member.Id}")) { Content = JsonContent.Create(new { role = "admin" }) };
        stale.Headers.IfMatch.Add(etag);
        using var rejected = await owner.Client.SendAsync(stale);
        await rejected.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition.failed");
        Assert.Equal("viewer", await RoleOfAsync(owner, orgId, member.Id));
    }

    [Theory]
    [InlineData("{\"role\":\"superuser\"}")]
    [InlineData("{\"role\":1}")]
    [InlineData("{\"role\":\"admin\",\"email\":\"x@y.z\"}")]
    public async Task Bad_role_payloads_are_400(string body)
    {
        var (orgId, owner, _, member, _) = await OrgWithEveryRoleAsync();
        using var response = await owner.Client.PatchAsync(Url($"/api/v1/orgs/{orgId}/members/{member.Id}"),
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("member", await RoleOfAsync(owner, orgId, member.Id));
    }

    [Theory]
    [InlineData("{\"role\":\"admin, member\"}")]
    [InlineData("{\"role\":\"admin,member\"}")]
    [InlineData("{\"role\":\"viewer,viewer\"}")]
    [InlineData("{\"role\":\"viewer\",\"role\":\"admin\"}")]
    public async Task A_list_of_roles_or_a_repeated_role_is_malformed_and_changes_nothing(string body)
    {
        var (orgId, owner, _, member, _) = await OrgWithEveryRoleAsync();
        using var response = await owner.Client.PatchAsync(Url($"/api/v1/orgs/{orgId}/members/{member.Id}"),
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "request.malformed_json");
        Assert.Equal("member", await RoleOfAsync(owner, orgId, member.Id));
    }

    [Fact]
    public async Task Missing_role_is_a_validation_error()
    {
        var (orgId, owner, _, member, _) = await OrgWithEveryRoleAsync();
        using var response = await owner.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{orgId}/members/{member.Id}"), new { });
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty("role", out _));
    }
}
