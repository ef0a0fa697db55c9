using System.Net;
using RaptorFlow.Functions.Platform.Http;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform.Http;

public sealed class StrictTransportSecurityTests
{
    [Theory]
    [InlineData("/api/healthz", HttpStatusCode.OK)]
    [InlineData("/api/v1/orgs", HttpStatusCode.Unauthorized)]
    [InlineData("/api/v1/no-such-route", HttpStatusCode.NotFound)]
    public async Task Every_response_in_azure_carries_strict_transport_security(string path, HttpStatusCode status)
    {
        // In Azure the app must be given a mail provider that sends.
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["WEBSITE_SITE_NAME"] = "raptorflow-test",
            ["Mail:Provider"] = "Smtp",
            ["Mail:FromAddress"] = "noreply@raptorflow.test",
            ["Mail:Smtp:Host"] = "127.0.0.1",
        });

        using var response = await app.Client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(SecurityHeaders.StrictTransportSecurity, response.Headers.GetValues("Strict-Transport-Security").Single());
    }

    [Fact]
    public async Task Off_azure_no_response_pins_https_so_a_local_http_origin_keeps_working()
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.Client.GetAsync(new Uri("/api/healthz", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Strict-Transport-Security"));
    }
}
