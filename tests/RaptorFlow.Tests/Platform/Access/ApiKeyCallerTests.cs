using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform.Access;

/// <summary>
/// Key callers through the <c>ApiKey</c> scheme contract: a stand-in handler (the API-keys feature
/// supplies the real one) turns <c>X-Api-Key: rf_test;{orgId};{cap,cap}</c> into a principal carrying its caller.
/// </summary>
public sealed class ApiKeyCallerTests : IAsyncLifetime
{
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(SignedInUsers.WithDevIssuer(), customize: b =>
        // The app registers the real ApiKey scheme; this contract test swaps in its own handler.
        b.Services.Configure<AuthenticationOptions>(o => o.SchemeMap[AccessRegistration.ApiKeyScheme].HandlerType = typeof(ContractKeyHandler)));

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static Uri Url(string path) => new(path, UriKind.Relative);

    private HttpClient KeyClient(string orgId, params string[] capabilities)
    {
        var client = _app.CreateClient();
        client.DefaultRequestHeaders.Add(AccessRegistration.ApiKeyHeader, $"rf_test;{orgId};{string.Join(",", capabilities)}");
        return client;
    }

    [Fact]
    public async Task A_key_reads_its_own_org_only()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var otherOrg = await (await _app.SignInAsync()).CreateOrgAsync();
        using var key = KeyClient(orgId, Capability.OrgRead);

        using var own = await key.GetAsync(Url($"/api/v1/orgs/{orgId}"));
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        using var other = await key.GetAsync(Url($"/api/v1/orgs/{otherOrg}"));
        await other.ShouldBeProblemAsync(HttpStatusCode.NotFound, "org.not_found");
        using var members = await key.GetAsync(Url($"/api/v1/orgs/{orgId}/members"));
        await members.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "auth.capability_missing");
        using var me = await key.GetAsync(Url("/api/v1/me"));
        await me.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "auth.capability_missing");
        using var create = await key.PostAsJsonAsync(Url("/api/v1/orgs"), new { name = "By key" });
        await create.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "auth.capability_missing");
    }

    [Fact]
    public async Task A_deleted_orgs_keys_stop_working()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        using var key = KeyClient(orgId, Capability.OrgRead);
        using (var before = await key.GetAsync(Url($"/api/v1/orgs/{orgId}")))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using (var deleted = await owner.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}")))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using var after = await key.GetAsync(Url($"/api/v1/orgs/{orgId}"));
        await after.ShouldBeProblemAsync(HttpStatusCode.NotFound, "org.not_found");
    }

    [Fact]
    public async Task A_key_acts_as_an_admin_at_most_and_is_named_in_the_audit_log()
    {
        var owner = await _app.SignInAsync();
        var member = await _app.SignInAsync();
        var orgId = await owner.CreateOrgAsync();
        await owner.AddMemberAsync(orgId, member, "viewer");
        using var key = KeyClient(orgId, Capability.MembersManage, Capability.InvitationsManage);

        using var promote = await key.PatchAsJsonAsync(Url($"/api/v1/orgs/{orgId}/members/{member.Id}"), new { role = "member" });
        Assert.Equal(HttpStatusCode.OK, promote.StatusCode);
        using var toOwner = await key.PatchAsJsonAsync(Url($"/api/v1/orgs/{orgId}/members/{member.Id}"), new { role = "owner" });
        await toOwner.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "member.owner_protected");
        using var demoteOwner = await key.PatchAsJsonAsync(Url($"/api/v1/orgs/{orgId}/members/{owner.Id}"), new { role = "viewer" });
        await demoteOwner.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "member.owner_protected");
        using var inviteOwner = await key.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/invitations"), new { email = "k@example.test", role = "owner" });
        await inviteOwner.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "invitation.role_too_high");

        var events = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/audit-events?action=member.role_changed"));
        var actor = Assert.Single(events.GetProperty("data").EnumerateArray()).GetProperty("actor");
        Assert.Equal("api_key", actor.GetProperty("kind").GetString());
        Assert.Equal($"key_for_{orgId}", actor.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Idempotency_keys_of_a_key_caller_are_separate_from_a_users()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        using var key = KeyClient(orgId, Capability.InvitationsManage);
        var idempotencyKey = Guid.NewGuid().ToString();

        async Task<HttpResponseMessage> InviteAsync(HttpClient client)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, Url($"/api/v1/orgs/{orgId}/invitations"))
            {
                Content = JsonContent.Create(new { email = "same@example.test", role = "viewer" }),
            };
            request.Headers.Add(IdempotencyMiddleware.KeyHeader, idempotencyKey);
            return await client.SendAsync(request);
        }

        using var byKey = await InviteAsync(key);
        using var byUser = await InviteAsync(owner.Client);
        using var byKeyAgain = await InviteAsync(key);
        Assert.Equal(HttpStatusCode.Created, byKey.StatusCode);
        Assert.Equal(HttpStatusCode.Created, byUser.StatusCode);
        Assert.False(byUser.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        Assert.True(byKeyAgain.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        Assert.Equal(await byKey.Content.ReadAsStringAsync(), await byKeyAgain.Content.ReadAsStringAsync());
    }

    private sealed class ContractKeyHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            var parts = Request.Headers[AccessRegistration.ApiKeyHeader].ToString().Split(';');
            if (parts is not ["rf_test", var orgId, var caps])
            {
                return Task.FromResult(AuthenticateResult.Fail("Not a test key."));
            }

            var capabilities = caps.Split(',', StringSplitOptions.RemoveEmptyEntries).Where(Capability.OrgScoped.Contains).ToHashSet(StringComparer.Ordinal);
            var caller = new Caller(CallerKind.ApiKey, $"key_for_{orgId}", orgId, null, null, null, capabilities);
            var principal = new ClaimsPrincipal(new CallerIdentity(caller, Scheme.Name));
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name)));
        }
    }
}
