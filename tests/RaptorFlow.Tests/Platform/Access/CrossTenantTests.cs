using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform.Access;

/// <summary>Every route under an org, called by a stranger to that org, answers 404 and changes nothing.</summary>
public sealed class CrossTenantTests(SignedInAppFixture fixture) : IClassFixture<SignedInAppFixture>
{
    private TestApp App => fixture.App;

    private static Uri Url(string path) => new(path, UriKind.Relative);

    private async Task<string> SnapshotAsync(TestUser owner, string orgId)
    {
        var org = await owner.Client.GetStringAsync(Url($"/api/v1/orgs/{orgId}"));
        var members = await owner.Client.GetStringAsync(Url($"/api/v1/orgs/{orgId}/members?limit=100"));
        var invitations = await owner.Client.GetStringAsync(Url($"/api/v1/orgs/{orgId}/invitations?limit=100"));
        var audit = await owner.Client.GetStringAsync(Url($"/api/v1/orgs/{orgId}/audit-events?limit=100"));
        return string.Join("\n", org, members, invitations, audit);
    }

    [Fact]
    public async Task Every_org_route_with_another_orgs_id_is_404_and_changes_nothing()
    {
        var alice = await App.SignInAsync();
        var bob = await App.SignInAsync();
        var bobsMember = await App.SignInAsync();
        await alice.CreateOrgAsync();
        var bobsOrg = await bob.CreateOrgAsync();
        await bob.AddMemberAsync(bobsOrg, bobsMember, "member");
        using var invite = await bob.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{bobsOrg}/invitations"), new { email = "pending@example.test", role = "viewer" });
        var invitationId = (await invite.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("invitation").GetProperty("id").GetString()!;
        var before = await SnapshotAsync(bob, bobsOrg);

        var routes = App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.Parameters.Any(p => p.Name == "orgId"))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (Method: m, Pattern: e.RoutePattern.RawText!)))
            .ToList();
        Assert.True(routes.Count >= 10, $"Only {routes.Count} org routes found.");

        foreach (var (method, pattern) in routes)
        {
            var path = pattern
                .Replace("{orgId}", bobsOrg, StringComparison.Ordinal)
                .Replace("{userId}", bobsMember.Id, StringComparison.Ordinal)
                .Replace("{invitationId}", invitationId, StringComparison.Ordinal);
            path = System.Text.RegularExpressions.Regex.Replace(path, "\\{[^}]+\\}", "x_00000000000000000000000000");
            using var request = new HttpRequestMessage(new HttpMethod(method), Url(path.StartsWith('/') ? path : "/" + path));
            if (method is "POST" or "PATCH" or "PUT")
            {
                request.Content = new StringContent($"{{\"userId\":\"{alice.Id}\",\"role\":\"owner\",\"name\":\"pwned\",\"email\":\"a@b.test\"}}", Encoding.UTF8, "application/json");
            }

            using var response = await alice.Client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {pattern} answered {(int)response.StatusCode}: {body}");
            Assert.Contains("org.not_found", body, StringComparison.Ordinal);
        }

        Assert.Equal(before, await SnapshotAsync(bob, bobsOrg));
    }

    [Fact]
    public async Task Another_orgs_member_and_invitation_ids_are_404_inside_ones_own_org()
    {
        var alice = await App.SignInAsync();
        var bob = await App.SignInAsync();
        var bobsMember = await App.SignInAsync();
        var alicesOrg = await alice.CreateOrgAsync();
        var bobsOrg = await bob.CreateOrgAsync();
        await bob.AddMemberAsync(bobsOrg, bobsMember, "member");
        using var invite = await bob.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{bobsOrg}/invitations"), new { email = "other@example.test", role = "viewer" });
        var invitationId = (await invite.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("invitation").GetProperty("id").GetString()!;
        var before = await SnapshotAsync(bob, bobsOrg);

        using (var get = await alice.Client.GetAsync(Url($"/api/v1/orgs/{alicesOrg}/members/{bobsMember.Id}")))
        {
            await get.ShouldBeProblemAsync(HttpStatusCode.NotFound, "member.not_found");
        }

        using (var patch = await alice.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{alicesOrg}/members/{bobsMember.Id}"), new { role = "viewer" }))
        {
            await patch.ShouldBeProblemAsync(HttpStatusCode.NotFound, "member.not_found");
        }

        using (var delete = await alice.Client.DeleteAsync(Url($"/api/v1/orgs/{alicesOrg}/members/{bobsMember.Id}")))
        {
            await delete.ShouldBeProblemAsync(HttpStatusCode.NotFound, "member.not_found");
        }

        using (var transfer = await alice.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{alicesOrg}/transfer-ownership"), new { userId = bobsMember.Id }))
        {
            await transfer.ShouldBeProblemAsync(HttpStatusCode.NotFound, "member.not_found");
        }

        using (var revoke = await alice.Client.DeleteAsync(Url($"/api/v1/orgs/{alicesOrg}/invitations/{invitationId}")))
        {
            await revoke.ShouldBeProblemAsync(HttpStatusCode.NotFound, "invitation.not_found");
        }

        Assert.Equal(before, await SnapshotAsync(bob, bobsOrg));
    }
}
