using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform.Http;

/// <summary>Query strings are bounded everywhere: absurd values are a 400 naming the field, never a 500.</summary>
public sealed partial class QueryValuesTests : IAsyncLifetime
{
    private readonly string _adminId = SignedInUsers.NewUserId();
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(SignedInUsers.WithDevIssuer(new Dictionary<string, string?>
    {
        ["Auth:PlatformAdmins:0"] = _adminId,
    }));

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static Uri Url(string path) => new(path, UriKind.Relative);

    private static readonly string[] Instants =
    [
        "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.9999999-14:00", "0001-01-01T00:00:00+14:00",
        "1999-12-31T23:59:59Z", "2200-01-01T00:00:00Z", "garbage", "1e309", "2026-13-45T99:99:99Z",
    ];

    /// <summary>Absurd query strings: each date and number alone, windows at the ends of the calendar, garbage and repeats.</summary>
    public static IEnumerable<string> AbsurdQueries()
    {
        foreach (var limit in new[] { "-1", "0", "101", "2147483648", "99999999999999999999", "abc", "1.5", "1&limit=2" })
        {
            yield return "limit=" + limit;
        }

        foreach (var cursor in new[] { "garbage", "%00", new string('x', 5000) })
        {
            yield return "cursor=" + cursor;
        }

        foreach (var name in new[] { "from", "to", "asOf" })
        {
            foreach (var instant in Instants)
            {
                yield return $"{name}={Uri.EscapeDataString(instant)}";
            }

            yield return $"{name}=2026-01-01T00:00:00Z&{name}=2026-02-01T00:00:00Z";
        }

        foreach (var granularity in new[] { "hour", "day", "month" })
        {
            yield return $"from=9999-12-01T00:00:00Z&to=9999-12-31T00:00:00Z&granularity={granularity}";
            yield return $"from=0001-01-01T00:00:00Z&to=0001-01-02T00:00:00Z&granularity={granularity}";
            yield return $"to=9999-12-31T23:00:00Z&granularity={granularity}";
            yield return $"from=2199-12-31T00:00:00Z&to=2199-12-31T23:00:00Z&granularity={granularity}";
        }

        foreach (var other in new[] { "granularity=garbage", "granularity=day&granularity=hour", "meter=" + new string('m', 300), "status=99999999999",
                     "status=garbage", "action=x&action=y", "actor=garbage", "actor=" + new string('a', 5000) })
        {
            yield return other;
        }
    }

    [Fact]
    public async Task Every_get_endpoint_answers_absurd_query_values_without_a_500()
    {
        var admin = await _app.SignInAsync(_adminId);
        var orgId = await admin.CreateOrgAsync();
        var patterns = _app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Contains("GET") == true)
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/'))
            .Distinct()
            .ToList();
        Assert.Contains("/api/v1/orgs/{orgId}/usage", patterns);

        var failures = new List<string>();
        foreach (var pattern in patterns)
        {
            var path = RouteParameter().Replace(pattern.Replace("{orgId}", orgId, StringComparison.Ordinal), "x_00000000000000000000000000");
            foreach (var query in AbsurdQueries())
            {
                using var response = await admin.Client.GetAsync(Url($"{path}?{query}"));
                if ((int)response.StatusCode >= 500)
                {
                    failures.Add($"GET {pattern}?{query[..Math.Min(query.Length, 80)]} answered {(int)response.StatusCode}");
                }
                else if (response.StatusCode == HttpStatusCode.BadRequest)
                {
                    Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [InlineData("from=9999-12-01T00:00:00Z&to=9999-12-31T00:00:00Z", "from")]
    [InlineData("from=2026-01-01T00:00:00Z&to=9999-12-31T23:00:00Z&granularity=month", "to")]
    [InlineData("from=0001-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from")]
    public async Task A_usage_window_off_the_supported_calendar_is_400_naming_the_field(string query, string field)
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        using var response = await owner.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/usage?{query}"));
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Theory]
    [InlineData("9999-12-31T23:59:59Z")]
    [InlineData("0001-01-01T00:00:00Z")]
    public async Task A_trial_balance_as_of_the_ends_of_the_calendar_is_400_naming_as_of(string asOf)
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        using var response = await owner.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/ledger/trial-balance?asOf={Uri.EscapeDataString(asOf)}"));
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(problem.GetProperty("errors").TryGetProperty("asOf", out _), problem.ToString());
    }

    [GeneratedRegex("\\{[^}]+\\}")]
    private static partial Regex RouteParameter();
}
