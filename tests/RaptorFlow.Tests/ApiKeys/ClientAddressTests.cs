using System.Net;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Tests.Fixtures;
using static RaptorFlow.Tests.ApiKeys.ApiKeyTestKit;

namespace RaptorFlow.Tests.ApiKeys;

/// <summary><c>allowedCidrs</c> for IPv6 clients, and behind the Functions host through <c>X-Forwarded-For</c>.</summary>
public sealed class ClientAddressTests
{
    [Fact]
    public async Task Allowed_cidrs_judge_an_ipv6_client_address()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await StartAsync(clock, new Dictionary<string, string?> { ["urls"] = "http://[::1]:0" });
        var owner = await app.SignInAsync(email: $"{Guid.NewGuid():N}@example.test");
        var orgId = await owner.CreateOrgAsync();

        var loopback = await owner.CreateKeyAsync(orgId, new { name = "v6", capabilities = new[] { "org:read" }, allowedCidrs = new[] { "::1/128" } });
        var documentation = await owner.CreateKeyAsync(orgId, new { name = "v6 elsewhere", capabilities = new[] { "org:read" }, allowedCidrs = new[] { "2001:db8::/32" } });
        var ipv4Only = await owner.CreateKeyAsync(orgId, new { name = "v4", capabilities = new[] { "org:read" }, allowedCidrs = new[] { "127.0.0.0/8", "0.0.0.0/0" } });
        var either = await owner.CreateKeyAsync(orgId, new { name = "both", capabilities = new[] { "org:read" }, allowedCidrs = new[] { "10.0.0.0/8", "::/0" } });

        using (var allowed = await app.GetOrgWithKeyAsync(loopback.Secret, orgId))
        {
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using (var any = await app.GetOrgWithKeyAsync(either.Secret, orgId))
        {
            Assert.Equal(HttpStatusCode.OK, any.StatusCode);
        }

        foreach (var refused in new[] { documentation, ipv4Only })
        {
            using var response = await app.GetOrgWithKeyAsync(refused.Secret, orgId);
            await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "api_key.ip_not_allowed");
        }
    }

    [Theory]
    [InlineData("2001:db8::7", HttpStatusCode.OK)]
    [InlineData("[2001:db8::7]:51234", HttpStatusCode.OK)]
    [InlineData("198.51.100.1, 2001:db8::7", HttpStatusCode.OK)]
    [InlineData("2001:db8::7, 198.51.100.1", HttpStatusCode.Forbidden)]
    [InlineData("203.0.113.9:443", HttpStatusCode.OK)]
    [InlineData("garbage", HttpStatusCode.Forbidden)]
    public async Task Behind_the_host_the_last_forwarded_address_is_the_client(string forwardedFor, HttpStatusCode expected)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await StartAsync(clock, new Dictionary<string, string?> { ["ApiKeys:TrustForwardedFor"] = "true" });
        var owner = await app.SignInAsync(email: $"{Guid.NewGuid():N}@example.test");
        var orgId = await owner.CreateOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, new { name = "x", capabilities = new[] { "org:read" }, allowedCidrs = new[] { "2001:db8::/32", "203.0.113.0/24" } });

        using var client = app.KeyClient(key.Secret);
        using var request = new HttpRequestMessage(HttpMethod.Get, Url($"/api/v1/orgs/{orgId}"));
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        using var response = await client.SendAsync(request);
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
    public async Task Forwarded_address_is_ignored_unless_trusted()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await StartAsync(clock);
        var owner = await app.SignInAsync(email: $"{Guid.NewGuid():N}@example.test");
        var orgId = await owner.CreateOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, new { name = "x", capabilities = new[] { "org:read" }, allowedCidrs = new[] { "203.0.113.0/24" } });

        using var client = app.KeyClient(key.Secret);
        using var request = new HttpRequestMessage(HttpMethod.Get, Url($"/api/v1/orgs/{orgId}"));
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.9");
        using var response = await client.SendAsync(request);
        await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "api_key.ip_not_allowed");
    }
}
