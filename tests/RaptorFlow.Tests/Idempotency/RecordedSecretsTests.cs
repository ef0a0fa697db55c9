using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Platform.Secrets;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Idempotency;

/// <summary>
/// Idempotent routes that hand out a secret (invitation token, API key) record their response
/// encrypted, and a retry still gets the working secret.
/// </summary>
public sealed class RecordedSecretsTests(SignedInAppFixture fixture) : IClassFixture<SignedInAppFixture>
{
    private TestApp App => fixture.App;

    private static Uri Url(string path) => new(path, UriKind.Relative);

    private static async Task<HttpResponseMessage> PostAsync(TestUser user, string path, object body, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url(path)) { Content = JsonContent.Create(body) };
        request.Headers.Add(IdempotencyMiddleware.KeyHeader, key);
        return await user.Client.SendAsync(request);
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    /// <summary>Every raw row of the idempotency table, each property as text (binary as UTF-8), must not hold the secret.</summary>
    private async Task AssertNotStoredAsync(string secret)
    {
        var rows = 0;
        await foreach (var row in App.Storage.Table(IdempotencyRegistration.TableName).QueryAsync<TableEntity>())
        {
            rows++;
            foreach (var (name, value) in row)
            {
                var text = value switch
                {
                    byte[] bytes => Encoding.UTF8.GetString(bytes),
                    BinaryData data => data.ToString(),
                    _ => value?.ToString() ?? "",
                };
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"The secret is stored in plaintext in {name} of an idempotency record.");
            }
        }

        Assert.True(rows > 0);
    }

    [Fact]
    public async Task A_retried_invitation_replays_a_working_token_that_is_stored_only_encrypted()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var invitee = await App.SignInAsync();
        var key = Guid.NewGuid().ToString();
        var body = new { email = invitee.Email, role = "member" };

        using var first = await PostAsync(owner, $"/api/v1/orgs/{orgId}/invitations", body, key);
        var token = (await JsonAsync(first, HttpStatusCode.Created)).GetProperty("token").GetString()!;
        await AssertNotStoredAsync(token);

        using var retry = await PostAsync(owner, $"/api/v1/orgs/{orgId}/invitations", body, key);
        Assert.Equal("true", Assert.Single(retry.Headers.GetValues(IdempotencyMiddleware.ReplayedHeader)));
        Assert.Equal(token, (await JsonAsync(retry, HttpStatusCode.Created)).GetProperty("token").GetString());

        using var accepted = await invitee.Client.PostAsJsonAsync(Url("/api/v1/invitations/accept"), new { token });
        Assert.True(accepted.StatusCode == HttpStatusCode.OK, await accepted.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_retried_api_key_create_and_roll_replay_working_keys_that_are_stored_only_encrypted()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var createKey = Guid.NewGuid().ToString();
        var body = new { name = "ci", capabilities = new[] { "org:read" } };

        using var created = await PostAsync(owner, $"/api/v1/orgs/{orgId}/api-keys", body, createKey);
        var createdJson = await JsonAsync(created, HttpStatusCode.Created);
        var secret = createdJson.GetProperty("key").GetString()!;
        var keyId = createdJson.GetProperty("apiKey").GetProperty("id").GetString()!;
        await AssertNotStoredAsync(secret);

        using var createRetry = await PostAsync(owner, $"/api/v1/orgs/{orgId}/api-keys", body, createKey);
        Assert.Equal("true", Assert.Single(createRetry.Headers.GetValues(IdempotencyMiddleware.ReplayedHeader)));
        Assert.Equal(secret, (await JsonAsync(createRetry, HttpStatusCode.Created)).GetProperty("key").GetString());
        var keys = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/api-keys"));
        Assert.Single(keys.GetProperty("data").EnumerateArray());

        var rollKey = Guid.NewGuid().ToString();
        using var rolled = await PostAsync(owner, $"/api/v1/orgs/{orgId}/api-keys/{keyId}/roll", new { expireOldInSeconds = 0 }, rollKey);
        var newSecret = (await JsonAsync(rolled, HttpStatusCode.OK)).GetProperty("key").GetString()!;
        await AssertNotStoredAsync(newSecret);
        using var rollRetry = await PostAsync(owner, $"/api/v1/orgs/{orgId}/api-keys/{keyId}/roll", new { expireOldInSeconds = 0 }, rollKey);
        Assert.Equal("true", Assert.Single(rollRetry.Headers.GetValues(IdempotencyMiddleware.ReplayedHeader)));
        Assert.Equal(newSecret, (await JsonAsync(rollRetry, HttpStatusCode.OK)).GetProperty("key").GetString());

        using var client = App.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", newSecret);
        using var works = await client.GetAsync(Url($"/api/v1/orgs/{orgId}"));
        Assert.Equal(HttpStatusCode.OK, works.StatusCode);
    }

    [Fact]
    public async Task Another_instance_replays_the_recorded_secret_from_the_shared_key_ring()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var key = Guid.NewGuid().ToString();
        var body = new { email = $"{Guid.NewGuid():N}@example.test", role = "viewer" };
        using var first = await PostAsync(owner, $"/api/v1/orgs/{orgId}/invitations", body, key);
        var token = (await JsonAsync(first, HttpStatusCode.Created)).GetProperty("token").GetString()!;

        var blobs = App.Storage.Container(BlobKeyRing.Container).GetBlobsAsync();
        Assert.True(await blobs.AnyAsync(), "The key ring is not in blob storage.");

        await using var other = await TestApp.StartAsync(SignedInUsers.WithDevIssuer());
        var sameOwner = await other.SignInAsync(owner.Id);
        using var retry = await PostAsync(sameOwner, $"/api/v1/orgs/{orgId}/invitations", body, key);
        Assert.Equal("true", Assert.Single(retry.Headers.GetValues(IdempotencyMiddleware.ReplayedHeader)));
        Assert.Equal(token, (await JsonAsync(retry, HttpStatusCode.Created)).GetProperty("token").GetString());
    }
}
