using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Functions.ApiKeys;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Tests.Fixtures;
using static RaptorFlow.Tests.ApiKeys.ApiKeyTestKit;

namespace RaptorFlow.Tests.ApiKeys;

/// <summary>One app per class on a fake clock the tests move; every test makes its own users, orgs and keys.</summary>
public sealed class ApiKeyAppFixture : IAsyncLifetime
{
    private TestApp? _app;

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);
    public LogCapture Logs { get; } = new();
    public TestApp App => _app ?? throw new InvalidOperationException("The app has not started.");

    public async Task InitializeAsync() =>
        _app = await StartAsync(Clock, logs: Logs);

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

public sealed class ApiKeysTests(ApiKeyAppFixture fixture) : IClassFixture<ApiKeyAppFixture>
{
    private TestApp App => fixture.App;
    private FakeTimeProvider Clock => fixture.Clock;

    [Fact]
    public async Task Created_key_authenticates_as_its_org_with_its_capabilities()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, new { name = "Build server", capabilities = new[] { "org:read", "members:read" } });

        Assert.StartsWith("key_", key.Id, StringComparison.Ordinal);
        Assert.Matches("^rf_live_[0-9a-z]{26}_[0-9a-z]{59}$", key.Secret);
        Assert.Equal(key.Id[4..], key.Secret[8..34]);
        var apiKey = key.Body.GetProperty("apiKey");
        Assert.Equal("Build server", apiKey.GetProperty("name").GetString());
        Assert.Equal("active", apiKey.GetProperty("status").GetString());
        Assert.Equal("live", apiKey.GetProperty("mode").GetString());
        Assert.Equal(key.Secret[..34], apiKey.GetProperty("prefix").GetString());
        Assert.Equal(["members:read", "org:read"], apiKey.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal($"user:{owner.Id}", apiKey.GetProperty("createdBy").GetString());

        using var byHeader = await App.GetOrgWithKeyAsync(key.Secret, orgId);
        Assert.Equal(HttpStatusCode.OK, byHeader.StatusCode);
        Assert.NotNull(byHeader.Headers.GetValues("RateLimit-Limit").Single());

        using var bearer = App.CreateClient();
        bearer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Secret);
        using var members = await bearer.GetAsync(Url($"/api/v1/orgs/{orgId}/members"));
        Assert.Equal(HttpStatusCode.OK, members.StatusCode);

        // A capability the key does not carry is refused, even though its creator holds it.
        using var keys = await bearer.GetAsync(Url($"/api/v1/orgs/{orgId}/api-keys"));
        await keys.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "auth.capability_missing");
    }

    [Fact]
    public async Task Key_is_confined_to_its_org_and_another_orgs_ids_are_404()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var (stranger, otherOrg) = await App.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, "org:read", "apikeys:manage");
        var foreignKey = await stranger.CreateKeyAsync(otherOrg, "org:read");

        using var other = await App.GetOrgWithKeyAsync(key.Secret, otherOrg);
        await other.ShouldBeProblemAsync(HttpStatusCode.NotFound, "org.not_found");

        using var client = App.KeyClient(key.Secret);
        using var foreign = await client.GetAsync(Url($"/api/v1/orgs/{orgId}/api-keys/{foreignKey.Id}"));
        await foreign.ShouldBeProblemAsync(HttpStatusCode.NotFound, "api_key.not_found");
        using var revokeForeign = await owner.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}/api-keys/{foreignKey.Id}"));
        await revokeForeign.ShouldBeProblemAsync(HttpStatusCode.NotFound, "api_key.not_found");
        using var stillWorks = await App.GetOrgWithKeyAsync(foreignKey.Secret, otherOrg);
        Assert.Equal(HttpStatusCode.OK, stillWorks.StatusCode);
    }

    [Fact]
    public async Task List_and_get_show_keys_without_secrets()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var first = await owner.CreateKeyAsync(orgId, new { name = "first", capabilities = new[] { "org:read" }, mode = "test", allowedCidrs = new[] { "10.1.2.3/8", "2001:DB8::1/32" }, rateLimitPerMinute = 50 });
        Clock.Advance(TimeSpan.FromMilliseconds(1)); // ids sort by creation time, to the millisecond
        var second = await owner.CreateKeyAsync(orgId, "org:read");
        Assert.StartsWith("rf_test_", first.Secret, StringComparison.Ordinal);

        using var list = await owner.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/api-keys?limit=1"));
        var listText = await list.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        var page = JsonDocument.Parse(listText).RootElement;
        var only = Assert.Single(page.GetProperty("data").EnumerateArray());
        Assert.Equal(first.Id, only.GetProperty("id").GetString());
        Assert.Equal(["10.0.0.0/8", "2001:db8::/32"], only.GetProperty("allowedCidrs").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(50, only.GetProperty("rateLimitPerMinute").GetInt32());
        Assert.False(only.TryGetProperty("key", out _));

        var cursor = page.GetProperty("nextCursor").GetString();
        using var next = await owner.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/api-keys?limit=1&cursor={Uri.EscapeDataString(cursor!)}"));
        var nextText = await next.Content.ReadAsStringAsync();
        Assert.Equal(second.Id, Assert.Single(JsonDocument.Parse(nextText).RootElement.GetProperty("data").EnumerateArray()).GetProperty("id").GetString());

        using var get = await owner.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/api-keys/{second.Id}"));
        var getText = await get.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.NotNull(get.Headers.ETag);
        foreach (var text in new[] { listText, nextText, getText })
        {
            Assert.DoesNotContain(first.Secret[34..], text, StringComparison.Ordinal);
            Assert.DoesNotContain(second.Secret[34..], text, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("{\"name\":\"x\",\"capabilities\":[]}", "capabilities")]
    [InlineData("{\"name\":\"x\"}", "capabilities")]
    [InlineData("{\"name\":\"x\",\"capabilities\":[\"org:read\",\"root\"]}", "capabilities")]
    [InlineData("{\"name\":\"x\",\"capabilities\":[\"orgs:create\"]}", "capabilities")]
    [InlineData("{\"name\":\"\",\"capabilities\":[\"org:read\"]}", "name")]
    [InlineData("{\"name\":\"a\\u0000b\",\"capabilities\":[\"org:read\"]}", "name")]
    [InlineData("{\"name\":\"x\",\"capabilities\":[\"org:read\"],\"rateLimitPerMinute\":0}", "rateLimitPerMinute")]
    [InlineData("{\"name\":\"x\",\"capabilities\":[\"org:read\"],\"expiresAt\":\"2001-01-01T00:00:00Z\"}", "expiresAt")]
    [InlineData("{\"name\":\"x\",\"capabilities\":[\"org:read\"],\"allowedCidrs\":[\"10.0.0.0/33\"]}", "allowedCidrs")]
    [InlineData("{\"name\":\"x\",\"capabilities\":[\"org:read\"],\"allowedCidrs\":[\"1.2.3\"]}", "allowedCidrs")]
    [InlineData("{\"name\":\"x\",\"capabilities\":[\"org:read\"],\"allowedCidrs\":[\"fe80::1%eth0\"]}", "allowedCidrs")]
    [InlineData("{\"name\":\"x\",\"capabilities\":[\"org:read\"],\"allowedCidrs\":[\"example.com\"]}", "allowedCidrs")]
    public async Task Invalid_create_is_a_400_naming_the_field_and_creates_nothing(string body, string field)
    {
        var (owner, orgId) = await App.NewOrgAsync();
        using var response = await owner.Client.PostAsync(Url($"/api/v1/orgs/{orgId}/api-keys"), new StringContent(body, Encoding.UTF8, "application/json"));
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        await AssertNoKeysAsync(owner, orgId);
    }

    [Theory]
    [InlineData("{\"name\":\"x\",\"capabilities\":[\"org:read\"],\"extra\":true}")]
    [InlineData("{\"name\":\"x\",\"capabilities\":\"org:read\"}")]
    [InlineData("{\"name\":\"x\",\"capabilities\":[\"org:read\"],\"rateLimitPerMinute\":\"5\"}")]
    [InlineData("{\"name\":\"x\",\"capabilities\":[\"org:read\"],\"mode\":\"prod\"}")]
    [InlineData("{\"name\":\"x\",\"capabilities\":[\"org:read\"]")]
    public async Task Malformed_create_body_is_a_400_and_creates_nothing(string body)
    {
        var (owner, orgId) = await App.NewOrgAsync();
        using var response = await owner.Client.PostAsync(Url($"/api/v1/orgs/{orgId}/api-keys"), new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        await AssertNoKeysAsync(owner, orgId);
    }

    [Theory]
    [InlineData("{\"name\":\"x\",\"capabilities\":[\"org:read\"],\"mode\":\"live, test\"}")]
    [InlineData("{\"name\":\"x\",\"capabilities\":[\"org:read\"],\"mode\":\"live,live\"}")]
    [InlineData("{\"name\":\"x\",\"capabilities\":[\"org:read\"],\"mode\":\"live\",\"mode\":\"test\"}")]
    [InlineData("{\"name\":\"a\",\"name\":\"b\",\"capabilities\":[\"org:read\"]}")]
    public async Task A_list_of_modes_or_a_repeated_field_is_malformed_and_creates_nothing(string body)
    {
        var (owner, orgId) = await App.NewOrgAsync();
        using var response = await owner.Client.PostAsync(Url($"/api/v1/orgs/{orgId}/api-keys"), new StringContent(body, Encoding.UTF8, "application/json"));
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "request.malformed_json");
        await AssertNoKeysAsync(owner, orgId);
    }

    [Fact]
    public async Task A_key_cannot_carry_a_capability_its_creator_lacks()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var admin = await App.SignInAsync(email: $"{Guid.NewGuid():N}@example.test");
        await owner.AddMemberAsync(orgId, admin, "admin");

        using var tooMuch = await admin.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/api-keys"), new { name = "x", capabilities = new[] { "org:read", "org:delete" } });
        var problem = await tooMuch.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "api_key.capability_not_held");
        Assert.Contains("org:delete", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // A key that manages keys may only hand out what it carries itself.
        var manager = await admin.CreateKeyAsync(orgId, "apikeys:manage", "org:read");
        using var client = App.KeyClient(manager.Secret);
        using var escalate = await client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/api-keys"), new { name = "y", capabilities = new[] { "members:manage" } });
        await escalate.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "api_key.capability_not_held");
        using var subset = await client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/api-keys"), new { name = "y", capabilities = new[] { "org:read" } });
        Assert.Equal(HttpStatusCode.Created, subset.StatusCode);

        var viewer = await App.SignInAsync(email: $"{Guid.NewGuid():N}@example.test");
        await owner.AddMemberAsync(orgId, viewer, "viewer");
        using var denied = await viewer.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/api-keys"), new { name = "z", capabilities = new[] { "org:read" } });
        await denied.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "auth.capability_missing");
    }

    [Theory]
    [InlineData("typo")]
    [InlineData("truncated")]
    [InlineData("unknown")]
    [InlineData("wrong-prefix")]
    public async Task Bad_keys_are_401_problems(string kind)
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, "org:read");
        var presented = kind switch
        {
            "typo" => key.Secret[..50] + (key.Secret[50] == 'a' ? 'b' : 'a') + key.Secret[51..],
            "truncated" => key.Secret[..^1],
            "wrong-prefix" => "rf_prod_" + key.Secret[8..],
            _ => Forge(key.Id),
        };
        using var response = await App.GetOrgWithKeyAsync(presented, orgId);
        var code = kind == "unknown" ? "api_key.unknown" : "api_key.malformed";
        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, code);
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
    }

    [Fact]
    public async Task Conflicting_key_headers_are_rejected()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, "org:read");
        var other = await owner.CreateKeyAsync(orgId, "org:read");
        using var client = App.KeyClient(key.Secret);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", other.Secret);
        using var response = await client.GetAsync(Url($"/api/v1/orgs/{orgId}"));
        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "api_key.malformed");
    }

    [Fact]
    public async Task Revocation_takes_effect_at_once_and_is_audited()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, "org:read");
        using (var before = await App.GetOrgWithKeyAsync(key.Secret, orgId))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using var get = await owner.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/api-keys/{key.Id}"));
        using var stale = new HttpRequestMessage(HttpMethod.Delete, Url($"/api/v1/orgs/{orgId}/api-keys/{key.Id}"));
        stale.Headers.IfMatch.Add(new EntityTagHeaderValue("\"W/not-the-etag\""));
        using var refused = await owner.Client.SendAsync(stale);
        await refused.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition.failed");

        using var revoke = new HttpRequestMessage(HttpMethod.Delete, Url($"/api/v1/orgs/{orgId}/api-keys/{key.Id}"));
        revoke.Headers.TryAddWithoutValidation("If-Match", get.Headers.ETag!.ToString());
        using var revoked = await owner.Client.SendAsync(revoke);
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);

        using var after = await App.GetOrgWithKeyAsync(key.Secret, orgId);
        await after.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "api_key.revoked");
        using var again = await owner.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}/api-keys/{key.Id}"));
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        var shown = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/api-keys/{key.Id}"));
        Assert.Equal("revoked", shown.GetProperty("status").GetString());

        var events = await AuditAsync(orgId);
        Assert.Contains(events, e => e.Action == "api_key.created" && e.TargetId == key.Id && e.ActorRef == $"user:{owner.Id}");
        Assert.Single(events, e => e.Action == "api_key.revoked" && e.TargetId == key.Id && e.ActorRef == $"user:{owner.Id}");
    }

    [Fact]
    public async Task Roll_keeps_the_old_secret_working_for_the_overlap_only()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, "org:read");
        using (await App.GetOrgWithKeyAsync(key.Secret, orgId))
        {
        }

        var rolled = await RollAsync(owner, orgId, key.Id, 60);
        Assert.NotEqual(key.Secret, rolled.Secret);
        Assert.Equal(key.Id, rolled.Id);
        Assert.NotNull(rolled.Body.GetProperty("apiKey").GetProperty("previousKeyExpiresAt").GetString());

        using (var oldStill = await App.GetOrgWithKeyAsync(key.Secret, orgId))
        using (var newOne = await App.GetOrgWithKeyAsync(rolled.Secret, orgId))
        {
            Assert.Equal(HttpStatusCode.OK, oldStill.StatusCode);
            Assert.Equal(HttpStatusCode.OK, newOne.StatusCode);
        }

        Clock.Advance(TimeSpan.FromSeconds(61));
        using (var oldGone = await App.GetOrgWithKeyAsync(key.Secret, orgId))
        {
            await oldGone.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "api_key.unknown");
        }

        using (var newStill = await App.GetOrgWithKeyAsync(rolled.Secret, orgId))
        {
            Assert.Equal(HttpStatusCode.OK, newStill.StatusCode);
        }

        var immediate = await RollAsync(owner, orgId, key.Id, 0);
        using var rolledGone = await App.GetOrgWithKeyAsync(rolled.Secret, orgId);
        await rolledGone.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "api_key.unknown");
        using var latest = await App.GetOrgWithKeyAsync(immediate.Secret, orgId);
        Assert.Equal(HttpStatusCode.OK, latest.StatusCode);

        var events = await AuditAsync(orgId);
        Assert.Equal(2, events.Count(e => e.Action == "api_key.rolled" && e.TargetId == key.Id));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"expireOldInSeconds\":-1}")]
    [InlineData("{\"expireOldInSeconds\":99999999}")]
    [InlineData("{\"expireOldInSeconds\":\"10\"}")]
    public async Task Invalid_roll_is_a_400_and_the_secret_is_unchanged(string body)
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, "org:read");
        using var response = await owner.Client.PostAsync(Url($"/api/v1/orgs/{orgId}/api-keys/{key.Id}/roll"), new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var still = await App.GetOrgWithKeyAsync(key.Secret, orgId);
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);
    }

    [Fact]
    public async Task Revoked_key_cannot_be_rolled()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, "org:read");
        using (await owner.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}/api-keys/{key.Id}")))
        {
        }

        using var roll = await owner.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/api-keys/{key.Id}/roll"), new { expireOldInSeconds = 0 });
        await roll.ShouldBeProblemAsync(HttpStatusCode.Conflict, "api_key.not_active");
    }

    [Fact]
    public async Task Expired_key_is_a_401_and_listed_as_expired()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, new { name = "short", capabilities = new[] { "org:read" }, expiresAt = Clock.GetUtcNow().AddMinutes(10) });
        using (var fresh = await App.GetOrgWithKeyAsync(key.Secret, orgId))
        {
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        }

        Clock.Advance(TimeSpan.FromMinutes(10));
        using var expired = await App.GetOrgWithKeyAsync(key.Secret, orgId);
        await expired.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "api_key.expired");
        var shown = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/api-keys/{key.Id}"));
        Assert.Equal("expired", shown.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Keys_of_a_deleted_org_fail()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var used = await owner.CreateKeyAsync(orgId, "org:read");
        var unused = await owner.CreateKeyAsync(orgId, "org:read");
        using (var before = await App.GetOrgWithKeyAsync(used.Secret, orgId))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using (var deleted = await owner.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}")))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using (var notSeenBefore = await App.GetOrgWithKeyAsync(unused.Secret, orgId))
        {
            await notSeenBefore.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "api_key.org_deleted");
        }

        // A key verified moments before is still in memory, but the org it names answers 404.
        using (var cached = await App.GetOrgWithKeyAsync(used.Secret, orgId))
        {
            await cached.ShouldBeProblemAsync(HttpStatusCode.NotFound, "org.not_found");
        }

        Clock.Advance(TimeSpan.FromSeconds(31));
        using var later = await App.GetOrgWithKeyAsync(used.Secret, orgId);
        await later.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "api_key.org_deleted");
    }

    [Fact]
    public async Task Recently_verified_key_is_not_read_from_storage_again_until_its_entry_expires()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, "org:read");
        using (var first = await App.GetOrgWithKeyAsync(key.Secret, orgId))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        // Take the key's rows away behind the app's back: only memory can still vouch for it.
        var row = (await App.Storage.Table(ApiKeyRow.TableName).GetEntityAsync<ApiKeyRow>(orgId, key.Id)).Value;
        await App.Storage.Table(ApiKeyHashRow.TableName).DeleteEntityAsync(row.SecretHash, "");
        await App.Storage.Table(ApiKeyRow.TableName).DeleteEntityAsync(orgId, key.Id);

        Clock.Advance(TimeSpan.FromSeconds(29));
        using (var cached = await App.GetOrgWithKeyAsync(key.Secret, orgId))
        {
            Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
        }

        Clock.Advance(TimeSpan.FromSeconds(2));
        using var reread = await App.GetOrgWithKeyAsync(key.Secret, orgId);
        await reread.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "api_key.unknown");
    }

    [Fact]
    public async Task Index_entry_without_its_key_row_authenticates_nothing()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, "org:read");
        var row = (await App.Storage.Table(ApiKeyRow.TableName).GetEntityAsync<ApiKeyRow>(orgId, key.Id)).Value;

        // As if a create crashed after writing the index entry: the key row is missing.
        await App.Storage.Table(ApiKeyRow.TableName).DeleteEntityAsync(orgId, key.Id);
        using var orphan = await App.GetOrgWithKeyAsync(key.Secret, orgId);
        await orphan.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "api_key.unknown");

        // An index entry naming another org's key is checked against the row it names.
        var (_, otherOrg) = await App.NewOrgAsync();
        row.PartitionKey = otherOrg;
        await App.Storage.Table(ApiKeyRow.TableName).AddEntityAsync(row);
        await App.Storage.Table(ApiKeyHashRow.TableName).UpsertEntityAsync(new ApiKeyHashRow { PartitionKey = row.SecretHash, RowKey = "", OrgId = orgId, KeyId = key.Id });
        using var misdirected = await App.GetOrgWithKeyAsync(key.Secret, otherOrg);
        await misdirected.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "api_key.unknown");
    }

    [Theory]
    [InlineData("127.0.0.0/8", HttpStatusCode.OK)]
    [InlineData("127.0.0.1", HttpStatusCode.OK)]
    [InlineData("10.0.0.0/8", HttpStatusCode.Forbidden)]
    [InlineData("::1/128", HttpStatusCode.Forbidden)]
    [InlineData("0.0.0.0/0", HttpStatusCode.OK)]
    public async Task Allowed_cidrs_judge_the_ipv4_client_address(string cidr, HttpStatusCode expected)
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, new { name = "x", capabilities = new[] { "org:read" }, allowedCidrs = new[] { cidr } });
        using var response = await App.GetOrgWithKeyAsync(key.Secret, orgId);
        if (expected == HttpStatusCode.OK)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        else
        {
            await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "api_key.ip_not_allowed");
        }
    }

    [Fact]
    public async Task Rate_limit_is_a_429_with_retry_after_and_refills_over_time()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, new { name = "x", capabilities = new[] { "org:read" }, rateLimitPerMinute = 3 });
        using var client = App.KeyClient(key.Secret);
        for (var i = 0; i < 3; i++)
        {
            using var ok = await client.GetAsync(Url($"/api/v1/orgs/{orgId}"));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("3", ok.Headers.GetValues("RateLimit-Limit").Single());
            Assert.Equal($"{2 - i}", ok.Headers.GetValues("RateLimit-Remaining").Single());
        }

        using var limited = await client.GetAsync(Url($"/api/v1/orgs/{orgId}"));
        await limited.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "rate_limit.exceeded");
        Assert.Equal(TimeSpan.FromSeconds(20), limited.Headers.RetryAfter?.Delta);
        Assert.Equal("0", limited.Headers.GetValues("RateLimit-Remaining").Single());
        Assert.Equal("60", limited.Headers.GetValues("RateLimit-Reset").Single());

        Clock.Advance(TimeSpan.FromSeconds(19));
        using (var stillLimited = await client.GetAsync(Url($"/api/v1/orgs/{orgId}")))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, stillLimited.StatusCode);
        }

        Clock.Advance(TimeSpan.FromSeconds(1));
        await App.SyncRateLimitsAsync();
        using (var refilled = await client.GetAsync(Url($"/api/v1/orgs/{orgId}")))
        {
            Assert.Equal(HttpStatusCode.OK, refilled.StatusCode);
        }

        using var empty = await client.GetAsync(Url($"/api/v1/orgs/{orgId}"));
        Assert.Equal(HttpStatusCode.TooManyRequests, empty.StatusCode);
    }

    [Fact]
    public async Task Concurrent_requests_never_exceed_the_limit_on_one_instance()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, new { name = "x", capabilities = new[] { "org:read" }, rateLimitPerMinute = 10 });
        using var client = App.KeyClient(key.Secret);
        var responses = await Task.WhenAll(Enumerable.Range(0, 25).Select(_ => client.GetAsync(Url($"/api/v1/orgs/{orgId}"))));
        Assert.Equal(10, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(15, responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task Last_used_is_kept_in_memory_and_written_once_per_flush()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, "org:read");
        for (var i = 0; i < 3; i++)
        {
            using var used = await App.GetOrgWithKeyAsync(key.Secret, orgId);
            Assert.Equal(HttpStatusCode.OK, used.StatusCode);
        }

        var usedAt = Clock.GetUtcNow();
        var table = App.Storage.Table(ApiKeyLastUseRow.TableName);
        Assert.False((await table.GetEntityIfExistsAsync<ApiKeyLastUseRow>(orgId, key.Id)).HasValue);
        var shown = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/api-keys/{key.Id}"));
        Assert.Equal(usedAt, shown.GetProperty("lastUsedAt").GetDateTimeOffset());

        await App.Services.GetRequiredService<KeyLastUse>().FlushAsync(CancellationToken.None);
        var stored = await table.GetEntityAsync<ApiKeyLastUseRow>(orgId, key.Id);
        Assert.Equal(usedAt, stored.Value.LastUsedAt);

        // Nothing new to say: the next flush writes nothing.
        await App.Services.GetRequiredService<KeyLastUse>().FlushAsync(CancellationToken.None);
        Assert.Equal(stored.Value.ETag, (await table.GetEntityAsync<ApiKeyLastUseRow>(orgId, key.Id)).Value.ETag);
    }

    [Fact]
    public async Task Audit_events_of_a_key_caller_name_the_key()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var manager = await owner.CreateKeyAsync(orgId, "apikeys:manage", "org:read");
        using var client = App.KeyClient(manager.Secret);
        using var created = await client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/api-keys"), new { name = "child", capabilities = new[] { "org:read" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var child = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("apiKey");
        Assert.Equal($"api_key:{manager.Id}", child.GetProperty("createdBy").GetString());

        var events = await AuditAsync(orgId);
        Assert.Contains(events, e => e.Action == "api_key.created" && e.TargetId == child.GetProperty("id").GetString() && e.ActorRef == $"api_key:{manager.Id}");
    }

    [Fact]
    public async Task No_secret_reaches_a_response_a_log_line_an_audit_event_or_storage()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, new { name = "secretive", capabilities = new[] { "org:read", "apikeys:manage" }, allowedCidrs = new[] { "127.0.0.0/8" } });
        var secrets = new List<string> { key.Secret };
        using (var ok = await App.GetOrgWithKeyAsync(key.Secret, orgId))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        var rolled = await RollAsync(owner, orgId, key.Id, 30);
        secrets.Add(rolled.Secret);
        var bodies = new List<string>();
        using (var client = App.KeyClient(rolled.Secret))
        {
            foreach (var path in new[] { $"/api/v1/orgs/{orgId}/api-keys", $"/api/v1/orgs/{orgId}/api-keys/{key.Id}", $"/api/v1/orgs/{orgId}/members", "/api/v1/nowhere" })
            {
                using var response = await client.GetAsync(Url(path));
                bodies.Add(await response.Content.ReadAsStringAsync() + response.Headers);
            }
        }

        var typo = rolled.Secret[..60] + (rolled.Secret[60] == 'a' ? 'b' : 'a') + rolled.Secret[61..];
        using (var bad = await App.GetOrgWithKeyAsync(typo, orgId))
        {
            bodies.Add(await bad.Content.ReadAsStringAsync() + bad.Headers);
        }

        using (var revoked = await owner.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}/api-keys/{key.Id}")))
        using (var afterRevoke = await App.GetOrgWithKeyAsync(rolled.Secret, orgId))
        {
            bodies.Add(await afterRevoke.Content.ReadAsStringAsync() + afterRevoke.Headers);
        }

        await App.Services.GetRequiredService<KeyLastUse>().FlushAsync(CancellationToken.None);
        var stored = new List<string>();
        foreach (var table in new[] { ApiKeyRow.TableName, ApiKeyHashRow.TableName, ApiKeyLastUseRow.TableName, AuditLog.TableName })
        {
            await foreach (var row in App.Storage.Table(table).QueryAsync<TableEntity>())
            {
                stored.Add(string.Join(";", row.Select(p => $"{p.Key}={p.Value}")));
            }
        }

        Assert.NotEmpty(fixture.Logs.Lines);
        var logged = fixture.Logs.AllText;
        foreach (var secret in secrets.Append(typo))
        {
            var secretPart = secret[35..];
            Assert.DoesNotContain(secretPart, logged, StringComparison.Ordinal);
            Assert.DoesNotContain(bodies, b => b.Contains(secretPart, StringComparison.Ordinal));
            Assert.DoesNotContain(stored, s => s.Contains(secretPart, StringComparison.Ordinal));
        }
    }

    private async Task<IssuedKey> RollAsync(TestUser owner, string orgId, string keyId, int expireOldInSeconds)
    {
        using var response = await owner.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/api-keys/{keyId}/roll"), new { expireOldInSeconds });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var json = JsonDocument.Parse(text).RootElement;
        return new IssuedKey(json.GetProperty("apiKey").GetProperty("id").GetString()!, json.GetProperty("key").GetString()!, json);
    }

    private async Task AssertNoKeysAsync(TestUser owner, string orgId)
    {
        var list = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/api-keys"));
        Assert.Equal(0, list.GetProperty("data").GetArrayLength());
    }

    private async Task<List<AuditEventRow>> AuditAsync(string orgId)
    {
        var rows = new List<AuditEventRow>();
        await foreach (var row in App.Storage.Table(AuditLog.TableName).QueryAsync<AuditEventRow>(TableClient.CreateQueryFilter($"PartitionKey eq {orgId}")))
        {
            rows.Add(row);
        }

        return rows;
    }

    /// <summary>A key with a valid shape and checksum for <paramref name="keyId"/> that was never issued.</summary>
    private static string Forge(string keyId) => ApiKeyToken.Issue(keyId, ApiKeyMode.Live);
}
