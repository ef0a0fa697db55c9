using System.Net;
using System.Text.Json;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform;

public sealed class HttpConventionsTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task Healthz_answers_200_with_security_headers_and_no_server_banner()
    {
        using var response = await _client.GetAsync(new Uri("/api/healthz", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.True(response.Headers.CacheControl?.NoStore);
        Assert.False(response.Headers.Contains("Server"));
        Assert.False(string.IsNullOrEmpty(response.Headers.GetValues("x-request-id").Single()));
    }

    [Fact]
    public async Task Readyz_reports_storage_ready()
    {
        using var response = await _client.GetAsync(new Uri("/api/readyz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("ready", json.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task OpenApi_document_describes_the_api()
    {
        using var response = await _client.GetAsync(new Uri("/api/openapi/v1.json", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.StartsWith("3.", json.RootElement.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        Assert.Equal("RaptorFlow API", json.RootElement.GetProperty("info").GetProperty("title").GetString());
        var paths = json.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/api/healthz", paths);
        Assert.DoesNotContain(paths, p => !p.StartsWith("/api/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cors_allows_no_origin_by_default()
    {
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/api/healthz");
        preflight.Headers.Add("Origin", "https://evil.example");
        preflight.Headers.Add("Access-Control-Request-Method", "GET");
        using var response = await _client.SendAsync(preflight);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public void Ids_are_prefixed_well_formed_and_sort_by_creation_time()
    {
        var earlier = IdGenerator.NewSortableId(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var later = IdGenerator.NewSortableId(new DateTimeOffset(2026, 1, 1, 0, 0, 0, 1, TimeSpan.Zero));
        Assert.True(string.CompareOrdinal(earlier, later) < 0);
        Assert.Equal(26, earlier.Length);

        var id = new IdGenerator(TimeProvider.System).New("org");
        Assert.True(IdGenerator.IsWellFormed(id, "org"));
        Assert.False(IdGenerator.IsWellFormed(id, "key"));
        Assert.False(IdGenerator.IsWellFormed("org_" + new string('u', 26), "org"));
        Assert.False(IdGenerator.IsWellFormed("org_../../etc", "org"));
    }
}

public sealed class CorsTests : IAsyncLifetime
{
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(new Dictionary<string, string?>
    {
        ["Cors:AllowedOrigins:0"] = "https://app.raptorflow.test",
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Preflight_from_a_configured_spa_origin_is_allowed()
    {
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/api/healthz");
        preflight.Headers.Add("Origin", "https://app.raptorflow.test");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization,content-type,idempotency-key");
        using var response = await _app.Client.SendAsync(preflight);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("https://app.raptorflow.test", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("POST", response.Headers.GetValues("Access-Control-Allow-Methods").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Simple_request_from_another_origin_gets_no_cors_grant()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/healthz");
        request.Headers.Add("Origin", "https://other.example");
        using var response = await _app.Client.SendAsync(request);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));

        using var allowed = new HttpRequestMessage(HttpMethod.Get, "/api/healthz");
        allowed.Headers.Add("Origin", "https://app.raptorflow.test");
        using var allowedResponse = await _app.Client.SendAsync(allowed);
        Assert.Equal("https://app.raptorflow.test", allowedResponse.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("x-request-id", allowedResponse.Headers.GetValues("Access-Control-Expose-Headers").Single(), StringComparison.OrdinalIgnoreCase);
    }
}
