using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions;
using RaptorFlow.Functions.Platform.OpenApi;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform.OpenApi;

public sealed class ApiReferenceTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Api_docs_serve_the_reference_over_the_served_document_with_a_nonce_policy_for_this_page_only()
    {
        using var page = await fixture.Client.GetAsync(new Uri("/api/docs/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("api/openapi/v1.json", html, StringComparison.Ordinal);

        var policy = page.Headers.GetValues("Content-Security-Policy").Single();
        var nonce = System.Text.RegularExpressions.Regex.Match(policy, "'nonce-([^']+)'").Groups[1].Value;
        Assert.NotEmpty(nonce);
        Assert.Contains($"nonce=\"{nonce}\"", html, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("script-src 'self' 'unsafe-inline'", policy, StringComparison.Ordinal);

        using var script = await fixture.Client.GetAsync(new Uri("/api/docs/scalar.js", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);

        // Everything else keeps the API's policy.
        using var health = await fixture.Client.GetAsync(new Uri("/api/healthz", UriKind.Relative));
        Assert.Equal("default-src 'none'; frame-ancestors 'none'", health.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    public async Task Api_docs_are_off_when_the_setting_turns_them_off()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["ApiDocs:Enabled"] = "false" });
        using var page = await app.Client.GetAsync(new Uri("/api/docs/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        using var document = await app.Client.GetAsync(new Uri("/api/openapi/v1.json", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
    }

    [Fact]
    public void Api_docs_are_on_locally_and_off_in_Azure_unless_the_setting_says_otherwise()
    {
        var local = new ConfigurationBuilder().Build();
        var azure = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["WEBSITE_SITE_NAME"] = "raptorflow-func" }).Build();

        Assert.True(new ApiDocsSettings().IsOn(local));
        Assert.False(new ApiDocsSettings().IsOn(azure));
        Assert.True(new ApiDocsSettings { Enabled = true }.IsOn(azure));
        Assert.False(new ApiDocsSettings { Enabled = false }.IsOn(local));
    }

    [Fact]
    public void An_overlong_title_stops_the_app_naming_the_setting()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Program.Build(
        [
            "--urls=http://127.0.0.1:0", "--environment=Testing",
            "--AzureWebJobsStorage=UseDevelopmentStorage=true",
            "--ApiDocs:Title=" + new string('x', 121),
        ]));
        Assert.Contains("ApiDocs:Title", error.Message, StringComparison.Ordinal);
    }
}
