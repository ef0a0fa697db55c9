using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Tests.Fixtures;
using static RaptorFlow.Tests.ApiKeys.ApiKeyTestKit;

namespace RaptorFlow.Tests.ApiKeys;

/// <summary><c>allowedCidrs</c> for IPv6 clients, and behind the Functions host through <c>X-Forwarded-For</c>.</summary>
public sealed class ClientAddressTests
{
    /// <summary>Settings of an app run as the Functions host runs it: on <c>FUNCTIONS_CUSTOMHANDLER_PORT</c>, reached from loopback.</summary>
    private static Dictionary<string, string?> UnderTheHost(bool trustForwardedFor)
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new Dictionary<string, string?>
        {
            ["FUNCTIONS_CUSTOMHANDLER_PORT"] = port.ToString(CultureInfo.InvariantCulture),
            ["ApiKeys:TrustForwardedFor"] = trustForwardedFor ? "true" : "false",
        };
    }

    private static async Task<HttpResponseMessage> GetOrgAsync(HttpClient client, string orgId, params string[] forwardedFor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Url($"/api/v1/orgs/{orgId}"));
        foreach (var value in forwardedFor)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", value);
        }

        return await client.SendAsync(request);
    }

    [Fact]
    public async Task Behind_the_host_a_caller_cannot_pass_allowed_cidrs_with_its_own_forwarded_for()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await StartAsync(clock, UnderTheHost(trustForwardedFor: true));
        var (owner, orgId) = await app.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, new { name = "x", capabilities = new[] { "org:read" }, allowedCidrs = new[] { "203.0.113.0/24" } });
        using var client = app.KeyClient(key.Secret);

        // The caller writes an allowed address; the front end appends the one it really came from,
        // in the same header line or in another.
        using (var sameLine = await GetOrgAsync(client, orgId, "203.0.113.9, 198.51.100.7"))
        {
            await sameLine.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "api_key.ip_not_allowed");
        }

        using (var ownLine = await GetOrgAsync(client, orgId, "203.0.113.9", "198.51.100.7"))
        {
            await ownLine.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "api_key.ip_not_allowed");
        }

        using var real = await GetOrgAsync(client, orgId, "198.51.100.7, 203.0.113.9");
        Assert.Equal(HttpStatusCode.OK, real.StatusCode);
    }

    [Fact]
    public async Task Standalone_a_loopback_caller_cannot_claim_a_forwarded_address_even_with_trust_on()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await StartAsync(clock, new Dictionary<string, string?> { ["ApiKeys:TrustForwardedFor"] = "true" });
        var (owner, orgId) = await app.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, new { name = "x", capabilities = new[] { "org:read" }, allowedCidrs = new[] { "203.0.113.0/24" } });
        using var client = app.KeyClient(key.Secret);
        using var response = await GetOrgAsync(client, orgId, "203.0.113.9");
        await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "api_key.ip_not_allowed");
    }

    [Fact]
    public async Task Behind_the_host_audit_events_record_the_forwarded_client_and_its_user_agent()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await StartAsync(clock, UnderTheHost(trustForwardedFor: true));
        var owner = await app.SignInAsync();
        owner.Client.DefaultRequestHeaders.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.9, 198.51.100.7");
        owner.Client.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", "raptorflow-console/2.1 (audit test)");
        var orgId = await owner.CreateOrgAsync();

        var events = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/audit-events"));
        var created = events.GetProperty("data").EnumerateArray().Single(e => e.GetProperty("action").GetString() == "org.created");
        Assert.Equal("198.51.100.7", created.GetProperty("ip").GetString());
        Assert.Equal("raptorflow-console/2.1 (audit test)", created.GetProperty("userAgent").GetString());
    }

    [Fact]
    public void The_function_app_trusts_the_forwarded_address_in_azure()
    {
        var bicep = File.ReadAllText(RepositoryRoot.Combine("infra", "modules", "function-app.bicep"));
        Assert.Matches(@"(?m)^\s*ApiKeys__TrustForwardedFor:\s*'true'\s*$", bicep);
    }

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
        await using var app = await StartAsync(clock, UnderTheHost(trustForwardedFor: true));
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
