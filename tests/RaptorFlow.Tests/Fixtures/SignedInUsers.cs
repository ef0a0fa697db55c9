using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace RaptorFlow.Tests.Fixtures;

/// <summary>Signs test users in through the app's development issuer (<c>POST /api/dev/token</c>).</summary>
public static class SignedInUsers
{
    /// <summary>Settings that enable the development issuer, merged over <paramref name="more"/>.</summary>
    public static Dictionary<string, string?> WithDevIssuer(IDictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase) { ["Auth:DevIssuer:Enabled"] = "true" };
        foreach (var (key, value) in more ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>A fresh user id, so tests never share users.</summary>
    public static string NewUserId() => "user-" + Guid.NewGuid().ToString("N");

    public static async Task<string> TokenAsync(this TestApp app, string sub, string? email = null, string? name = null, string? upn = null)
    {
        using var response = await app.Client.PostAsJsonAsync(new Uri("/api/dev/token", UriKind.Relative), new { sub, email, name, upn });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return json.GetProperty("accessToken").GetString()!;
    }

    /// <summary>
    /// An HTTP client that calls as the given user (a new one when <paramref name="sub"/> is null). Without
    /// <paramref name="email"/> or <paramref name="upn"/> the token carries <c>{sub}@example.test</c>, as
    /// a real sign-in carries an address; <see cref="TokenAsync"/> mints one without.
    /// </summary>
    public static async Task<TestUser> SignInAsync(this TestApp app, string? sub = null, string? email = null, string? name = null, string? upn = null)
    {
        sub ??= NewUserId();
        if (email is null && upn is null && !sub.Contains('@', StringComparison.Ordinal))
        {
            email = $"{sub}@example.test";
        }

        var token = await app.TokenAsync(sub, email, name, upn);
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return new TestUser(sub, email ?? upn, client);
    }

    /// <summary>Creates an org as <paramref name="owner"/>; returns its id.</summary>
    public static async Task<string> CreateOrgAsync(this TestUser owner, string? name = null)
    {
        using var response = await owner.Client.PostAsJsonAsync(new Uri("/api/v1/orgs", UriKind.Relative), new { name = name ?? "Org " + Guid.NewGuid().ToString("N")[..8] });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return json.GetProperty("id").GetString()!;
    }

    /// <summary>A new user, signed in now, who creates a new org through the API: the start of most tests.</summary>
    public static async Task<(TestUser Owner, string OrgId)> NewOrgAsync(this TestApp app, string? name = null)
    {
        var owner = await app.SignInAsync();
        return (owner, await owner.CreateOrgAsync(name));
    }

    /// <summary>Invites <paramref name="member"/> with <paramref name="role"/> and has them accept.</summary>
    public static async Task AddMemberAsync(this TestUser admin, string orgId, TestUser member, string role)
    {
        using var invite = await admin.Client.PostAsJsonAsync(new Uri($"/api/v1/orgs/{orgId}/invitations", UriKind.Relative),
            new { email = member.Email ?? $"{member.Id}@example.test", role });
        Assert.True(invite.StatusCode == HttpStatusCode.Created, await invite.Content.ReadAsStringAsync());
        var token = (await invite.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        using var accept = await member.Client.PostAsJsonAsync(new Uri("/api/v1/invitations/accept", UriKind.Relative), new { token });
        Assert.True(accept.StatusCode == HttpStatusCode.OK, await accept.Content.ReadAsStringAsync());
    }
}

public sealed record TestUser(string Id, string? Email, HttpClient Client);

/// <summary>One app per test class with the development issuer on.</summary>
public sealed class SignedInAppFixture : IAsyncLifetime
{
    private TestApp? _app;

    public TestApp App => _app ?? throw new InvalidOperationException("The app has not started.");

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(SignedInUsers.WithDevIssuer());

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
