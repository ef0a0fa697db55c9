using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CsCheck;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Functions.ApiKeys;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Stats;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Stats;

/// <summary>The stats' member, invitation and key counts come from counters kept on write; these tests hold them to a recount of the rows.</summary>
public sealed class OrgCountersTests
{
    /// <summary>On a whole minute, so every expiry below falls on one and the counters' minute rule is exact.</summary>
    private static readonly DateTimeOffset Start = new(2031, 3, 10, 9, 0, 0, TimeSpan.Zero);

    private static Uri Url(string path) => new(path, UriKind.Relative);

    private enum Op
    {
        Invite,
        Accept,
        RevokeInvitation,
        ChangeRole,
        RemoveMember,
        TransferOwnership,
        CreateKey,
        RevokeKey,
        RollKey,
        Wait,
    }

    private static readonly string[] Roles = ["admin", "member", "viewer"];

    [Fact]
    public async Task Any_sequence_of_member_invitation_and_key_changes_leaves_the_counters_equal_to_a_recount()
    {
        var clock = new FakeTimeProvider(Start);
        await using var app = await TestApp.StartAsync(SignedInUsers.WithDevIssuer(), clock: clock);
        await Gen.Select(Gen.Enum<Op>(), Gen.Int[0, 1_000]).List[6, 18].SampleAsync(async ops =>
        {
            var world = await World.StartAsync(app);
            foreach (var (op, pick) in ops)
            {
                await world.DoAsync(op, pick, clock);
                Assert.Equal(await world.RecountAsync(), await world.CountersAsync());
            }
        }, iter: 8, threads: 1);
    }

    [Fact]
    public async Task Pending_invitations_and_active_keys_drop_when_they_expire_with_no_write_and_closing_them_then_counts_nothing_twice()
    {
        var clock = new FakeTimeProvider(Start);
        await using var app = await TestApp.StartAsync(SignedInUsers.WithDevIssuer(), clock: clock);
        var world = await World.StartAsync(app);
        await world.DoAsync(Op.Invite, 0, clock); // 1 day
        await world.DoAsync(Op.Invite, 5, clock); // another address, 2 days
        await world.DoAsync(Op.CreateKey, 1, clock); // expires in an hour
        await world.DoAsync(Op.CreateKey, 0, clock); // never expires
        Assert.Equal(new Counts(1, 0, 0, 0, 2, 2), await world.CountersAsync());

        clock.Advance(TimeSpan.FromHours(2));
        await world.SignInAgainAsync();
        Assert.Equal(new Counts(1, 0, 0, 0, 2, 1), await world.CountersAsync());
        clock.Advance(TimeSpan.FromDays(1));
        await world.SignInAgainAsync();
        Assert.Equal(new Counts(1, 0, 0, 0, 1, 1), await world.CountersAsync());

        // Revoking what expired already: the count it left does not drop again.
        await world.DoAsync(Op.RevokeInvitation, 0, clock);
        await world.DoAsync(Op.RevokeKey, 0, clock);
        Assert.Equal(await world.RecountAsync(), await world.CountersAsync());
        Assert.Equal(new Counts(1, 0, 0, 0, 1, 1), await world.CountersAsync());
    }

    [Fact]
    public async Task Concurrent_invitations_and_keys_of_one_org_are_all_counted()
    {
        var clock = new FakeTimeProvider(Start);
        await using var app = await TestApp.StartAsync(SignedInUsers.WithDevIssuer(), clock: clock);
        var (owner, orgId) = await app.NewOrgAsync();

        // A burst: every write queues on the org's counter row in its table.
        var writes = Enumerable.Range(0, 24).Select(i => i % 2 == 0
            ? owner.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/invitations"), new { email = $"{Guid.NewGuid():N}@example.test", role = "member" })
            : owner.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/api-keys"), new { name = $"k{i}", capabilities = new[] { "org:read" } }));
        foreach (var response in await Task.WhenAll(writes))
        {
            Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
            response.Dispose();
        }

        var stats = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/stats"));
        Assert.Equal(12, stats.GetProperty("pendingInvitations").GetInt32());
        Assert.Equal(12, stats.GetProperty("activeApiKeys").GetInt32());
    }

    [Fact]
    public async Task An_org_from_before_the_counters_has_them_rebuilt_from_its_rows_once()
    {
        var clock = new FakeTimeProvider(Start);
        await using var app = await TestApp.StartAsync(SignedInUsers.WithDevIssuer(), clock: clock);
        var world = await World.StartAsync(app);
        await world.DoAsync(Op.Invite, 4, clock);
        await world.DoAsync(Op.Accept, 0, clock);
        await world.DoAsync(Op.Invite, 1, clock);
        await world.DoAsync(Op.CreateKey, 0, clock);
        var expected = await world.RecountAsync();

        // As an org created before the counters existed: no counter rows.
        foreach (var table in new[] { OrgTable.Name, ApiKeyRow.TableName })
        {
            await app.Storage.Table(table).DeleteEntityAsync(world.OrgId, OrgCountersRow.Key);
        }

        // A change before the first read finds no row: it marks one for rebuilding instead of counting from nothing.
        await world.DoAsync(Op.CreateKey, 0, clock);
        expected = expected with { ActiveKeys = expected.ActiveKeys + 1 };
        Assert.Equal(expected, await world.CountersAsync());
        var rebuilt = (await app.Storage.Table(OrgTable.Name).GetEntityAsync<OrgCountersRow>(world.OrgId, OrgCountersRow.Key)).Value;
        Assert.False(rebuilt.Rebuild);

        await world.DoAsync(Op.RevokeInvitation, 1, clock);
        Assert.Equal(await world.RecountAsync(), await world.CountersAsync());
    }

    private sealed record Counts(int Owners, int Admins, int Members, int Viewers, int PendingInvitations, int ActiveKeys);

    /// <summary>One org, its owner, four people who may be invited, and what the test has issued.</summary>
    private sealed class World
    {
        private readonly TestApp _app;
        private readonly List<(string Id, string Token, int Person)> _invitations = [];
        private readonly List<string> _keys = [];
        private TestUser _owner;
        private readonly TestUser[] _people;

        private World(TestApp app, TestUser owner, string orgId, TestUser[] people)
        {
            _app = app;
            _owner = owner;
            OrgId = orgId;
            _people = people;
        }

        public string OrgId { get; }

        public static async Task<World> StartAsync(TestApp app)
        {
            var (owner, orgId) = await app.NewOrgAsync();
            var people = new TestUser[4];
            for (var i = 0; i < people.Length; i++)
            {
                people[i] = await app.SignInAsync(email: $"{Guid.NewGuid():N}@example.test");
            }

            return new World(app, owner, orgId, people);
        }

        /// <summary>Does <paramref name="op"/> on what <paramref name="pick"/> selects; the API may refuse it (a used invitation, the last owner), which must change no count.</summary>
        public async Task DoAsync(Op op, int pick, FakeTimeProvider clock)
        {
            var person = _people[pick % _people.Length];
            using var response = op switch
            {
                Op.Invite => await _owner.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{OrgId}/invitations"),
                    new { email = person.Email, role = Roles[pick / 4 % 3], expiresInDays = 1 + (pick / 4 % 3) }),
                Op.Accept when _invitations.Count > 0 => await AcceptAsync(_invitations[pick % _invitations.Count]),
                Op.RevokeInvitation when _invitations.Count > 0 => await _owner.Client.DeleteAsync(Url($"/api/v1/orgs/{OrgId}/invitations/{_invitations[pick % _invitations.Count].Id}")),
                Op.ChangeRole => await _owner.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{OrgId}/members/{person.Id}"), new { role = Roles[pick / 4 % 3] }),
                Op.RemoveMember => await _owner.Client.DeleteAsync(Url($"/api/v1/orgs/{OrgId}/members/{person.Id}")),
                Op.TransferOwnership => await _owner.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{OrgId}/transfer-ownership"), new { userId = person.Id }),
                Op.CreateKey => await _owner.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{OrgId}/api-keys"), new
                {
                    name = "k",
                    capabilities = new[] { "org:read" },
                    expiresAt = pick % 2 == 0 ? (DateTimeOffset?)null : clock.GetUtcNow().AddHours(1 + (pick / 2 % 3)),
                }),
                Op.RevokeKey when _keys.Count > 0 => await _owner.Client.DeleteAsync(Url($"/api/v1/orgs/{OrgId}/api-keys/{_keys[pick % _keys.Count]}")),
                Op.RollKey when _keys.Count > 0 => await _owner.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{OrgId}/api-keys/{_keys[pick % _keys.Count]}/roll"), new { }),
                _ => null,
            };

            if (op == Op.Wait)
            {
                clock.Advance(TimeSpan.FromMinutes(30 * (1 + (pick % 60))));
                await SignInAgainAsync();
                return;
            }

            if (response is null || !response.IsSuccessStatusCode)
            {
                Assert.True(response is null || (int)response.StatusCode is >= 400 and < 500, response is null ? "" : await response.Content.ReadAsStringAsync());
                return;
            }

            var body = response.StatusCode == HttpStatusCode.NoContent ? default : await response.Content.ReadFromJsonAsync<JsonElement>();
            if (op == Op.Invite)
            {
                _invitations.Add((body.GetProperty("invitation").GetProperty("id").GetString()!, body.GetProperty("token").GetString()!, pick % _people.Length));
            }
            else if (op == Op.CreateKey)
            {
                _keys.Add(body.GetProperty("apiKey").GetProperty("id").GetString()!);
            }
        }

        /// <summary>Everyone signs in again at the clock's time (the tokens of an hour ago have expired).</summary>
        public async Task SignInAgainAsync()
        {
            _owner = await _app.SignInAsync(_owner.Id, _owner.Email);
            for (var i = 0; i < _people.Length; i++)
            {
                _people[i] = await _app.SignInAsync(_people[i].Id, _people[i].Email);
            }
        }

        public async Task<Counts> CountersAsync()
        {
            var stats = await _owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{OrgId}/stats"));
            var members = stats.GetProperty("members");
            var counts = new Counts(members.GetProperty("owners").GetInt32(), members.GetProperty("admins").GetInt32(), members.GetProperty("members").GetInt32(),
                members.GetProperty("viewers").GetInt32(), stats.GetProperty("pendingInvitations").GetInt32(), stats.GetProperty("activeApiKeys").GetInt32());
            Assert.Equal(counts.Owners + counts.Admins + counts.Members + counts.Viewers, members.GetProperty("total").GetInt32());
            return counts;
        }

        /// <summary>The same counts from the rows, read through the list endpoints.</summary>
        public async Task<Counts> RecountAsync()
        {
            var roles = (await AllAsync("members")).Select(m => m.GetProperty("role").GetString()).ToList();
            var pending = (await AllAsync("invitations")).Count;
            var active = (await AllAsync("api-keys")).Count(k => k.GetProperty("status").GetString() == "active");
            return new Counts(roles.Count(r => r == "owner"), roles.Count(r => r == "admin"), roles.Count(r => r == "member"), roles.Count(r => r == "viewer"), pending, active);
        }

        private async Task<HttpResponseMessage> AcceptAsync((string Id, string Token, int Person) invitation) =>
            await _people[invitation.Person].Client.PostAsJsonAsync(Url("/api/v1/invitations/accept"), new { token = invitation.Token });

        private async Task<List<JsonElement>> AllAsync(string list)
        {
            var all = new List<JsonElement>();
            string? cursor = null;
            do
            {
                var page = await _owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{OrgId}/{list}?limit=100{(cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))}"));
                all.AddRange(page.GetProperty("data").EnumerateArray());
                cursor = page.TryGetProperty("nextCursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
            }
            while (cursor is not null);

            return all;
        }
    }
}
