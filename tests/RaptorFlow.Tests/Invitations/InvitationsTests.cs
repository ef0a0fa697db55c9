using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Functions.Invitations;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Invitations;

public sealed class InvitationsTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(SignedInUsers.WithDevIssuer(new Dictionary<string, string?>
    {
        // Tokens outlive the clock moves below.
        ["Auth:DevIssuer:TokenLifetimeMinutes"] = "1440",
    }), clock: _clock);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static Uri Url(string path) => new(path, UriKind.Relative);

    private static string NewEmail() => $"invitee-{Guid.NewGuid():N}@example.test";

    private static async Task<(string Id, string Token)> InviteAsync(TestUser inviter, string orgId, string email, string role, int? expiresInDays = null)
    {
        using var response = await inviter.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/invitations"), new { email, role, expiresInDays });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (json.GetProperty("invitation").GetProperty("id").GetString()!, json.GetProperty("token").GetString()!);
    }

    private static Task<HttpResponseMessage> AcceptAsync(TestUser user, string token) =>
        user.Client.PostAsJsonAsync(Url("/api/v1/invitations/accept"), new { token });

    private static async Task<int> MemberCountAsync(TestUser reader, string orgId) =>
        (await reader.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/members?limit=100"))).GetProperty("data").GetArrayLength();

    [Fact]
    public async Task Invitee_accepts_and_joins_with_the_invited_role()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var email = NewEmail();
        using var created = await owner.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/invitations"), new { email = "  " + email.ToUpperInvariant() + " ", role = "member" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var invitation = body.GetProperty("invitation");
        Assert.Equal(email, invitation.GetProperty("email").GetString());
        Assert.Equal("pending", invitation.GetProperty("status").GetString());
        Assert.Equal(_clock.GetUtcNow().AddDays(7).ToUnixTimeSeconds(), invitation.GetProperty("expiresAt").GetDateTimeOffset().ToUnixTimeSeconds());
        var token = body.GetProperty("token").GetString()!;

        var invitee = await _app.SignInAsync(email: email);
        using var accepted = await AcceptAsync(invitee, token);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        var result = await accepted.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(orgId, result.GetProperty("orgId").GetString());
        Assert.Equal("member", result.GetProperty("role").GetString());

        var me = await invitee.Client.GetFromJsonAsync<JsonElement>(Url("/api/v1/me"));
        Assert.Equal("member", Assert.Single(me.GetProperty("orgs").EnumerateArray()).GetProperty("role").GetString());

        using var reused = await AcceptAsync(await _app.SignInAsync(email: email), token);
        await reused.ShouldBeProblemAsync(HttpStatusCode.Gone, "invitation.used");
    }

    [Fact]
    public async Task Only_the_token_hash_is_stored()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var (id, token) = await InviteAsync(owner, orgId, NewEmail(), "viewer");
        var table = _app.Storage.Table("Orgs");
        var row = (await table.GetEntityAsync<Azure.Data.Tables.TableEntity>(orgId, InvitationRow.RowKeyFor(id))).Value;
        Assert.DoesNotContain(row, kv => kv.Value is string s && s.Contains(token, StringComparison.Ordinal));
        Assert.Equal(InvitationTokens.Hash(token), row.GetString("TokenHash"));

        var listed = await owner.Client.GetStringAsync(Url($"/api/v1/orgs/{orgId}/invitations"));
        Assert.DoesNotContain(token, listed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Email_mismatch_is_403_and_joins_nobody()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var (_, token) = await InviteAsync(owner, orgId, NewEmail(), "member");
        var intruder = await _app.SignInAsync(email: NewEmail());
        using var response = await AcceptAsync(intruder, token);
        await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "invitation.email_mismatch");
        Assert.Equal(1, await MemberCountAsync(owner, orgId));
    }

    [Theory]
    [InlineData("invitee\u0000@example.test")]
    [InlineData("in\u0007vitee@example.test")]
    [InlineData("invitee@example.test\u007F")]
    public async Task An_address_with_a_control_character_is_a_400_and_invites_nobody(string email)
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        using var response = await owner.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/invitations"), new { email, role = "member" });
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty("email", out _));
        var pending = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/invitations"));
        Assert.Equal(0, pending.GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task A_sign_in_without_an_email_cannot_accept_and_the_invitation_stays_pending()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var email = NewEmail();
        var (_, token) = await InviteAsync(owner, orgId, email, "admin");

        var sub = SignedInUsers.NewUserId();
        using var anonymous = _app.CreateClient();
        anonymous.DefaultRequestHeaders.Authorization = new("Bearer", await _app.TokenAsync(sub));
        using var refused = await AcceptAsync(new TestUser(sub, null, anonymous), token);
        await refused.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "invitation.email_required");
        Assert.Equal(1, await MemberCountAsync(owner, orgId));

        using var accepted = await AcceptAsync(await _app.SignInAsync(email: email), token);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task An_entra_v1_upn_is_the_address_matched_after_trimming_unicode_normalising_and_lower_casing()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var local = $"jos\u00e9-{Guid.NewGuid():N}";
        var (_, token) = await InviteAsync(owner, orgId, $"{local}@example.test", "member");

        // Decomposed é (e + combining acute), upper case, padded: the same address as invited.
        var decomposed = $" {local.Normalize(System.Text.NormalizationForm.FormD).ToUpperInvariant()}@EXAMPLE.TEST ";
        var invitee = await _app.SignInAsync(upn: decomposed);
        using var accepted = await AcceptAsync(invitee, token);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        var member = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/members/{invitee.Id}"));
        Assert.Equal($"{local}@example.test", member.GetProperty("email").GetString());
    }

    [Fact]
    public async Task A_upn_naming_another_address_is_403_and_joins_nobody()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var (_, token) = await InviteAsync(owner, orgId, NewEmail(), "member");
        using var response = await AcceptAsync(await _app.SignInAsync(upn: NewEmail()), token);
        await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "invitation.email_mismatch");
        Assert.Equal(1, await MemberCountAsync(owner, orgId));
    }

    [Fact]
    public async Task Pending_invitations_page_to_the_end_while_the_clock_moves()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var invited = new HashSet<string>();
        for (var i = 0; i < 5; i++)
        {
            invited.Add((await InviteAsync(owner, orgId, NewEmail(), "viewer")).Id);
        }

        var seen = new List<string>();
        string? cursor = null;
        for (var page = 0; page < 10; page++)
        {
            var query = cursor is null ? "?limit=2" : $"?limit=2&cursor={Uri.EscapeDataString(cursor)}";
            using var response = await owner.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/invitations{query}"));
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            seen.AddRange(body.GetProperty("data").EnumerateArray().Select(i => i.GetProperty("id").GetString()!));
            cursor = body.GetProperty("nextCursor").GetString();
            if (cursor is null)
            {
                break;
            }

            _clock.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.Null(cursor);
        Assert.Equal(invited.Order(), seen.Order());
    }

    [Fact]
    public async Task An_invitation_cursor_does_not_page_another_orgs_invitations()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var otherOrg = await owner.CreateOrgAsync();
        for (var i = 0; i < 3; i++)
        {
            await InviteAsync(owner, orgId, NewEmail(), "viewer");
        }

        var first = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/invitations?limit=1"));
        var cursor = first.GetProperty("nextCursor").GetString()!;
        using var replayed = await owner.Client.GetAsync(Url($"/api/v1/orgs/{otherOrg}/invitations?cursor={Uri.EscapeDataString(cursor)}"));
        await replayed.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
    }

    [Fact]
    public async Task Expired_invitation_is_410()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var email = NewEmail();
        var (_, token) = await InviteAsync(owner, orgId, email, "member", expiresInDays: 1);
        _clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        var invitee = await _app.SignInAsync(email: email);
        using var response = await AcceptAsync(invitee, token);
        await response.ShouldBeProblemAsync(HttpStatusCode.Gone, "invitation.expired");
        Assert.Equal(1, await MemberCountAsync(await _app.SignInAsync(owner.Id), orgId));
    }

    [Fact]
    public async Task Revoked_invitation_is_410_and_leaves_the_pending_list()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var email = NewEmail();
        var (id, token) = await InviteAsync(owner, orgId, email, "member");
        using (var revoked = await owner.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}/invitations/{id}")))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        var pending = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/invitations"));
        Assert.Equal(0, pending.GetProperty("data").GetArrayLength());
        using var response = await AcceptAsync(await _app.SignInAsync(email: email), token);
        await response.ShouldBeProblemAsync(HttpStatusCode.Gone, "invitation.revoked");
    }

    [Fact]
    public async Task Reinviting_a_pending_email_replaces_the_old_invitation()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var email = NewEmail();
        var (firstId, firstToken) = await InviteAsync(owner, orgId, email, "viewer");
        var (secondId, secondToken) = await InviteAsync(owner, orgId, email, "admin");

        var pending = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/invitations"));
        var only = Assert.Single(pending.GetProperty("data").EnumerateArray());
        Assert.Equal(secondId, only.GetProperty("id").GetString());
        Assert.NotEqual(firstId, secondId);

        var invitee = await _app.SignInAsync(email: email);
        using var old = await AcceptAsync(invitee, firstToken);
        await old.ShouldBeProblemAsync(HttpStatusCode.Gone, "invitation.revoked");
        using var current = await AcceptAsync(invitee, secondToken);
        Assert.Equal("admin", (await current.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("role").GetString());
    }

    [Fact]
    public async Task Nobody_invites_above_their_own_role()
    {
        var owner = await _app.SignInAsync();
        var admin = await _app.SignInAsync();
        var orgId = await owner.CreateOrgAsync();
        await owner.AddMemberAsync(orgId, admin, "admin");
        using var asOwner = await admin.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/invitations"), new { email = NewEmail(), role = "owner" });
        await asOwner.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "invitation.role_too_high");
        using var asAdmin = await admin.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/invitations"), new { email = NewEmail(), role = "admin" });
        Assert.Equal(HttpStatusCode.Created, asAdmin.StatusCode);
        var (_, token) = await InviteAsync(owner, orgId, NewEmail(), "owner");
        Assert.StartsWith(InvitationTokens.Prefix, token, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Accepted_owner_invitation_counts_as_an_owner()
    {
        var owner = await _app.SignInAsync();
        var coOwner = await _app.SignInAsync();
        var orgId = await owner.CreateOrgAsync();
        await owner.AddMemberAsync(orgId, coOwner, "owner");
        using var stepDown = await owner.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{orgId}/members/{owner.Id}"), new { role = "viewer" });
        Assert.Equal(HttpStatusCode.OK, stepDown.StatusCode);
    }

    [Theory]
    [InlineData("{\"email\":\"not-an-email\",\"role\":\"member\"}", "email")]
    [InlineData("{\"role\":\"member\"}", "email")]
    [InlineData("{\"email\":\"a@b.test\"}", "role")]
    [InlineData("{\"email\":\"a@b.test\",\"role\":\"member\",\"expiresInDays\":0}", "expiresInDays")]
    [InlineData("{\"email\":\"a@b.test\",\"role\":\"member\",\"expiresInDays\":31}", "expiresInDays")]
    public async Task Invalid_invitations_list_the_field(string body, string field)
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        using var response = await owner.Client.PostAsync(Url($"/api/v1/orgs/{orgId}/invitations"),
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task Existing_member_accepting_is_not_added_twice()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var email = NewEmail();
        var member = await _app.SignInAsync(email: email);
        await owner.AddMemberAsync(orgId, member, "viewer");
        var (_, token) = await InviteAsync(owner, orgId, email, "admin");
        using var response = await AcceptAsync(member, token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(result.GetProperty("alreadyMember").GetBoolean());
        Assert.Equal("viewer", result.GetProperty("role").GetString());
        Assert.Equal(2, await MemberCountAsync(owner, orgId));
    }

    [Fact]
    public async Task Two_concurrent_accepts_join_once()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var email = NewEmail();
        var (_, token) = await InviteAsync(owner, orgId, email, "member");
        var first = await _app.SignInAsync(email: email);
        var second = await _app.SignInAsync(email: email);
        var responses = await Task.WhenAll(AcceptAsync(first, token), AcceptAsync(second, token), AcceptAsync(first, token));
        try
        {
            Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
            Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.Gone, r.StatusCode));
            Assert.Equal(2, await MemberCountAsync(owner, orgId));
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    [Theory]
    [InlineData("rfinv_doesnotexist")]
    [InlineData("random")]
    public async Task Unknown_tokens_change_nothing(string token)
    {
        var user = await _app.SignInAsync();
        using var response = await AcceptAsync(user, token);
        Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Revoking_an_accepted_invitation_is_a_conflict()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var email = NewEmail();
        var (id, token) = await InviteAsync(owner, orgId, email, "member");
        using (var accepted = await AcceptAsync(await _app.SignInAsync(email: email), token))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        using var response = await owner.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}/invitations/{id}"));
        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "invitation.not_pending");
    }
}
