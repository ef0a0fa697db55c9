using System.Net;
using RaptorFlow.Functions.Usage;
using RaptorFlow.Tests.Fixtures;
using static RaptorFlow.Tests.ApiKeys.ApiKeyTestKit;

namespace RaptorFlow.Tests.ApiKeys;

/// <summary>The fixture's clock never moves here, so no token refills and the meter never flushes while a test counts.</summary>
public sealed class KeyAdmissionTests(ApiKeyAppFixture fixture) : IClassFixture<ApiKeyAppFixture>
{
    private TestApp App => fixture.App;

    private BufferedUsageMeter Meter => App.Services.GetRequiredService<BufferedUsageMeter>();

    [Fact]
    public async Task A_key_request_refused_for_a_capability_the_key_lacks_spends_no_token_and_is_not_metered()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        await RefusalSpendsNothingAsync(owner, orgId, $"/api/v1/orgs/{orgId}/members", HttpStatusCode.Forbidden, "auth.capability_missing");
    }

    [Fact]
    public async Task A_key_request_for_another_org_spends_no_token_and_is_not_metered()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var otherOrg = await owner.CreateOrgAsync();
        await RefusalSpendsNothingAsync(owner, orgId, $"/api/v1/orgs/{otherOrg}", HttpStatusCode.NotFound, "org.not_found");
    }

    [Fact]
    public async Task A_key_request_from_outside_its_cidrs_is_a_403_that_spends_no_token_and_is_not_metered()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, new { name = "x", capabilities = new[] { "org:read" }, allowedCidrs = new[] { "10.0.0.0/8" }, rateLimitPerMinute = 1 });
        using var client = App.KeyClient(key.Secret);
        var before = Meter.PendingQuantity;

        for (var i = 0; i < 2; i++)
        {
            // A 429 on the second would mean the first refusal took the only token.
            using var refused = await client.GetAsync(Url($"/api/v1/orgs/{orgId}"));
            await refused.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "api_key.ip_not_allowed");
            Assert.False(refused.Headers.Contains("RateLimit-Remaining"));
        }

        Assert.Equal(before, Meter.PendingQuantity);
    }

    [Fact]
    public async Task An_admitted_key_request_is_metered_once_and_a_rate_limited_one_not_at_all()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, new { name = "x", capabilities = new[] { "org:read" }, rateLimitPerMinute = 1 });
        using var client = App.KeyClient(key.Secret);
        var before = Meter.PendingQuantity;

        using (var ok = await client.GetAsync(Url($"/api/v1/orgs/{orgId}")))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using (var limited = await client.GetAsync(Url($"/api/v1/orgs/{orgId}")))
        {
            await limited.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "rate_limit.exceeded");
        }

        Assert.Equal(before + 1, Meter.PendingQuantity);
    }

    /// <summary>
    /// A key of <paramref name="orgId"/> with <c>org:read</c> and 2 requests a minute is refused at
    /// <paramref name="path"/>, is not metered for it, and then still answers twice, with 1 and 0 tokens left.
    /// </summary>
    private async Task RefusalSpendsNothingAsync(TestUser owner, string orgId, string path, HttpStatusCode status, string code)
    {
        var key = await owner.CreateKeyAsync(orgId, new { name = "x", capabilities = new[] { "org:read" }, rateLimitPerMinute = 2 });
        using var client = App.KeyClient(key.Secret);
        var before = Meter.PendingQuantity;

        using (var refused = await client.GetAsync(Url(path)))
        {
            await refused.ShouldBeProblemAsync(status, code);
        }

        Assert.Equal(before, Meter.PendingQuantity);
        foreach (var remaining in new[] { "1", "0" })
        {
            using var ok = await client.GetAsync(Url($"/api/v1/orgs/{orgId}"));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal(remaining, ok.Headers.GetValues("RateLimit-Remaining").Single());
        }
    }
}
