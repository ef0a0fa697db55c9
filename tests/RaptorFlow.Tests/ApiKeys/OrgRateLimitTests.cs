using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Functions.ApiKeys;
using RaptorFlow.Tests.Fixtures;
using static RaptorFlow.Tests.ApiKeys.ApiKeyTestKit;

namespace RaptorFlow.Tests.ApiKeys;

public sealed class OrgRateLimitTests
{
    [Fact]
    public async Task Keys_of_one_org_share_the_orgs_limit_and_a_refusal_spends_no_key_token()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await StartAsync(clock, new Dictionary<string, string?> { ["Plans:Catalog:free:ApiRateLimitPerMinute"] = "5" });
        var owner = await app.SignInAsync(email: $"{Guid.NewGuid():N}@example.test");
        var orgId = await owner.CreateOrgAsync();
        var first = await owner.CreateKeyAsync(orgId, "org:read");
        var second = await owner.CreateKeyAsync(orgId, new { name = "small", capabilities = new[] { "org:read" }, rateLimitPerMinute = 2 });

        for (var i = 0; i < 3; i++)
        {
            using var ok = await app.GetOrgWithKeyAsync(first.Secret, orgId);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using (var ok = await app.GetOrgWithKeyAsync(second.Secret, orgId))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("2", ok.Headers.GetValues("RateLimit-Limit").Single());
        }

        using (var last = await app.GetOrgWithKeyAsync(first.Secret, orgId))
        {
            Assert.Equal(HttpStatusCode.OK, last.StatusCode);
        }

        // The org's 5 are spent; the second key still holds one token of its own, which the refusal must not take.
        using (var refused = await app.GetOrgWithKeyAsync(second.Secret, orgId))
        {
            var problem = await refused.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "rate_limit.exceeded");
            Assert.Equal(TimeSpan.FromSeconds(12), refused.Headers.RetryAfter?.Delta);
        }

        clock.Advance(TimeSpan.FromSeconds(12));
        await app.SyncRateLimitsAsync();
        using (var again = await app.GetOrgWithKeyAsync(second.Secret, orgId))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        // Another org is not affected.
        var (otherOrg, otherKey) = (await owner.CreateOrgAsync(), (string?)null);
        otherKey = (await owner.CreateKeyAsync(otherOrg, "org:read")).Secret;
        using var elsewhere = await app.GetOrgWithKeyAsync(otherKey, otherOrg);
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);
        Assert.True(app.Services.GetRequiredService<ApiKeyVerifier>().CachedCount >= 3);
    }

    [Fact]
    public async Task A_keys_default_limit_is_its_orgs_plan_limit_and_follows_a_plan_change()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await StartAsync(clock, new Dictionary<string, string?>
        {
            ["Plans:Catalog:free:ApiRateLimitPerMinute"] = "4",
            ["Plans:Catalog:team:Name"] = "Team",
            ["Plans:Catalog:team:MonthlyFeeMinor"] = "100000",
            ["Plans:Catalog:team:ApiRateLimitPerMinute"] = "40",
        });
        var owner = await app.SignInAsync(email: $"{Guid.NewGuid():N}@example.test");
        var orgId = await owner.CreateOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, "org:read");

        for (var i = 0; i < 4; i++)
        {
            using var ok = await app.GetOrgWithKeyAsync(key.Secret, orgId);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("4", ok.Headers.GetValues("RateLimit-Limit").Single());
        }

        using (var refused = await app.GetOrgWithKeyAsync(key.Secret, orgId))
        {
            await refused.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "rate_limit.exceeded");
        }

        using (var upgrade = await owner.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/subscription"), new { planId = "team" }))
        {
            Assert.Equal(HttpStatusCode.OK, upgrade.StatusCode);
        }

        // A verified key is trusted from memory for up to 30 s; after that the new plan's limit applies.
        clock.Advance(TimeSpan.FromSeconds(31));
        using var upgraded = await app.GetOrgWithKeyAsync(key.Secret, orgId);
        Assert.Equal(HttpStatusCode.OK, upgraded.StatusCode);
        Assert.Equal("40", upgraded.Headers.GetValues("RateLimit-Limit").Single());
    }
}
