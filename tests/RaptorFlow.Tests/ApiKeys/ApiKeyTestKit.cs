using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.ApiKeys;

/// <summary>A key as the create and roll endpoints return it.</summary>
public sealed record IssuedKey(string Id, string Secret, JsonElement Body);

public static class ApiKeyTestKit
{
    public static Uri Url(string path) => new(path, UriKind.Relative);

    /// <summary>Dev issuer on, tokens that outlive any clock jump a test makes.</summary>
    public static Dictionary<string, string?> Settings(IDictionary<string, string?>? more = null)
    {
        var settings = SignedInUsers.WithDevIssuer(new Dictionary<string, string?> { ["Auth:DevIssuer:TokenLifetimeMinutes"] = "1440" });
        foreach (var (key, value) in more ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    public static Task<TestApp> StartAsync(FakeTimeProvider clock, IDictionary<string, string?>? settings = null, LogCapture? logs = null) =>
        TestApp.StartAsync(Settings(settings), clock: clock, customize: b =>
        {
            if (logs is not null)
            {
                // Everything, down to trace, reaches the capture; the console keeps its own level.
                b.Logging.AddProvider(logs);
                b.Logging.AddFilter<LogCapture>(null, LogLevel.Trace);
            }
        });

    public static async Task<IssuedKey> CreateKeyAsync(this TestUser user, string orgId, object body)
    {
        using var response = await user.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/api-keys"), body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        var json = JsonDocument.Parse(text).RootElement;
        return new IssuedKey(json.GetProperty("apiKey").GetProperty("id").GetString()!, json.GetProperty("key").GetString()!, json);
    }

    public static Task<IssuedKey> CreateKeyAsync(this TestUser user, string orgId, params string[] capabilities) =>
        user.CreateKeyAsync(orgId, new { name = "ci", capabilities });

    /// <summary>A client that authenticates with <paramref name="secret"/> in <c>X-Api-Key</c>.</summary>
    public static HttpClient KeyClient(this TestApp app, string secret)
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", secret);
        return client;
    }

    public static async Task<HttpResponseMessage> GetOrgWithKeyAsync(this TestApp app, string secret, string orgId)
    {
        using var client = app.KeyClient(secret);
        return await client.GetAsync(Url($"/api/v1/orgs/{orgId}"));
    }
}
