using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Webhooks;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Webhooks;

public sealed class WebhookEndpointsApiTests(WebhookApp fixture) : IClassFixture<WebhookApp>
{
    private TestApp App => fixture.App;

    private static Uri Url(string path) => new(path, UriKind.Relative);

    private static Uri Hook => new("https://hooks.example.com/raptorflow");

    [Fact]
    public async Task Creating_an_endpoint_answers_a_whsec_secret_that_is_stored_only_encrypted_and_replays_it_for_the_same_idempotency_key()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var key = Guid.NewGuid().ToString();
        using var first = await PostAsync(owner, $"/api/v1/orgs/{orgId}/webhook-endpoints", new { url = Hook.ToString(), description = "ERP" }, key);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var created = await first.Content.ReadFromJsonAsync<JsonElement>();
        var secret = created.GetProperty("secret").GetString()!;
        var id = created.GetProperty("endpoint").GetProperty("id").GetString()!;

        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.InRange(Convert.FromBase64String(secret["whsec_".Length..]).Length, 24, 64);
        Assert.StartsWith("whe_", id, StringComparison.Ordinal);
        await AssertNotStoredAsync(WebhookEndpointRow.TableName, secret);
        await AssertNotStoredAsync(IdempotencyRegistration.TableName, secret);

        using var replay = await PostAsync(owner, $"/api/v1/orgs/{orgId}/webhook-endpoints", new { url = Hook.ToString(), description = "ERP" }, key);
        Assert.Equal("true", Assert.Single(replay.Headers.GetValues(IdempotencyMiddleware.ReplayedHeader)));
        var replayed = await replay.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(secret, replayed.GetProperty("secret").GetString());
        Assert.Equal(id, replayed.GetProperty("endpoint").GetProperty("id").GetString());

        using var read = await owner.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/webhook-endpoints/{id}/secret"));
        Assert.Equal(secret, (await read.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString());
        using var list = await owner.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/webhook-endpoints"));
        var listed = await list.Content.ReadAsStringAsync();
        Assert.Contains(id, listed, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, listed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_retried_secret_rotation_replays_the_same_new_secret_that_is_stored_only_encrypted()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        using var created = await PostAsync(owner, $"/api/v1/orgs/{orgId}/webhook-endpoints", new { url = Hook.ToString() }, Guid.NewGuid().ToString());
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("endpoint").GetProperty("id").GetString()!;
        var key = Guid.NewGuid().ToString();

        using var first = await PostAsync(owner, $"/api/v1/orgs/{orgId}/webhook-endpoints/{id}/rotate-secret", new { }, key);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var secret = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        await AssertNotStoredAsync(WebhookEndpointRow.TableName, secret);
        await AssertNotStoredAsync(IdempotencyRegistration.TableName, secret);

        using var replay = await PostAsync(owner, $"/api/v1/orgs/{orgId}/webhook-endpoints/{id}/rotate-secret", new { }, key);
        Assert.Equal("true", Assert.Single(replay.Headers.GetValues(IdempotencyMiddleware.ReplayedHeader)));
        Assert.Equal(secret, (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString());
        using var read = await owner.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/webhook-endpoints/{id}/secret"));
        Assert.Equal(secret, (await read.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString());
    }

    [Theory]
    [InlineData("{\"url\": ", "request.malformed_json")]
    [InlineData("{\"url\": 42}", "request.malformed_json")]
    [InlineData("{\"url\": \"https://hooks.example.com/x\", \"enabled\": \"yes\"}", "request.malformed_json")]
    [InlineData("{\"url\": \"https://hooks.example.com/x\", \"eventTypes\": [\"org.nope\"]}", "webhook.unknown_event_type")]
    public async Task A_malformed_or_wrongly_typed_create_is_a_400_problem_and_adds_no_endpoint(string body, string code)
    {
        var (owner, orgId) = await App.NewOrgAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, Url($"/api/v1/orgs/{orgId}/webhook-endpoints"))
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };
        using var response = await owner.Client.SendAsync(request);

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, code);
        Assert.Empty(await ListAsync(owner, orgId));
    }

    [Fact]
    public async Task An_oversized_unauthenticated_or_viewer_create_is_refused_with_a_problem_and_adds_no_endpoint()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var path = $"/api/v1/orgs/{orgId}/webhook-endpoints";

        var big = "{\"url\": \"https://hooks.example.com/x\", \"description\": \"" + new string('x', 2 * 1024 * 1024) + "\"}";
        using (var oversized = await owner.Client.PostAsync(Url(path), new StringContent(big, System.Text.Encoding.UTF8, "application/json")))
        {
            await oversized.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "request.body_too_large");
        }

        using (var anonymous = await App.Client.PostAsync(Url(path), JsonContent.Create(new { url = Hook.ToString() })))
        {
            await anonymous.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "auth.unauthenticated");
        }

        var viewer = await App.SignInAsync();
        await owner.AddMemberAsync(orgId, viewer, "viewer");
        using (var refused = await viewer.Client.PostAsync(Url(path), JsonContent.Create(new { url = Hook.ToString() })))
        {
            await refused.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "auth.capability_missing");
        }

        Assert.Empty(await ListAsync(owner, orgId));
    }

    [Theory]
    [InlineData("http://hooks.example.com/x")]
    [InlineData("ftp://hooks.example.com/x")]
    [InlineData("hooks.example.com/x")]
    [InlineData("https://user:pass@hooks.example.com/x")]
    [InlineData("https://169.254.169.254/latest/meta-data")]
    [InlineData("https://[fd00:ec2::254]/latest")]
    [InlineData("https://[::ffff:169.254.169.254]/latest")]
    [InlineData("https://[fe80::1]/x")]
    [InlineData("https://224.0.0.1/x")]
    [InlineData("https://0.0.0.0/x")]
    [InlineData("https://hooks.example.com/x\u0000y")]
    [InlineData("https://hooks.example.com/x\ny")]
    [InlineData("https://hooks.example.com/x y")]
    public async Task An_unacceptable_url_is_refused_with_webhook_invalid_url_and_nothing_is_created(string url)
    {
        var (owner, orgId) = await App.NewOrgAsync();
        using var response = await owner.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/webhook-endpoints"), new { url });
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "webhook.invalid_url");
        Assert.Empty(await ListAsync(owner, orgId));
    }

    [Fact]
    public async Task Unknown_event_types_are_refused()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        using var response = await owner.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/webhook-endpoints"), new { url = Hook.ToString(), eventTypes = new[] { "invoice.paid", "invoice.exploded" } });
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "webhook.unknown_event_type");
        Assert.Contains("invoice.exploded", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await ListAsync(owner, orgId));
    }

    [Fact]
    public async Task Updates_honour_if_match_and_are_audited()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var endpoint = await owner.CreateEndpointAsync(orgId, Hook);
        var path = Url($"/api/v1/orgs/{orgId}/webhook-endpoints/{endpoint.Id}");
        using var get = await owner.Client.GetAsync(path);
        var etag = get.Headers.ETag!.ToString();

        using (var stale = new HttpRequestMessage(HttpMethod.Patch, path) { Content = JsonContent.Create(new { description = "stale" }) })
        {
            stale.Headers.TryAddWithoutValidation("If-Match", "W/\"datetime'2000-01-01T00%3A00%3A00Z'\"");
            using var refused = await owner.Client.SendAsync(stale);
            await refused.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition.failed");
        }

        using (var patch = new HttpRequestMessage(HttpMethod.Patch, path) { Content = JsonContent.Create(new { enabled = false, eventTypes = new[] { "invoice.paid" } }) })
        {
            patch.Headers.TryAddWithoutValidation("If-Match", etag);
            using var updated = await owner.Client.SendAsync(patch);
            Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
            var json = await updated.Content.ReadFromJsonAsync<JsonElement>();
            Assert.False(json.GetProperty("enabled").GetBoolean());
            Assert.Equal("manual", json.GetProperty("disabledReason").GetString());
            Assert.Equal(["invoice.paid"], json.GetProperty("eventTypes").EnumerateArray().Select(e => e.GetString()));
        }

        using var audit = await owner.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/audit-events"));
        var events = await audit.Content.ReadAsStringAsync();
        Assert.Contains("webhook_endpoint.created", events, StringComparison.Ordinal);
        Assert.Contains("webhook_endpoint.updated", events, StringComparison.Ordinal);

        using var delete = await owner.Client.DeleteAsync(path);
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var gone = await owner.Client.GetAsync(path);
        await gone.ShouldBeProblemAsync(HttpStatusCode.NotFound, "webhook.endpoint_not_found");
    }

    [Fact]
    public async Task A_patch_that_changes_nothing_keeps_the_etag_and_writes_no_audit_event()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var endpoint = await owner.CreateEndpointAsync(orgId, Hook, new { description = "Orders" });
        var path = Url($"/api/v1/orgs/{orgId}/webhook-endpoints/{endpoint.Id}");
        using var before = await owner.Client.GetAsync(path);
        var updatedAt = (await before.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("updatedAt").GetString();

        foreach (var body in new object[] { new { }, new { url = Hook.ToString(), description = "Orders", enabled = true } })
        {
            using var patched = await owner.Client.PatchAsJsonAsync(path, body);
            Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
            Assert.Equal(before.Headers.ETag, patched.Headers.ETag);
            Assert.Equal(updatedAt, (await patched.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("updatedAt").GetString());
        }

        using var after = await owner.Client.GetAsync(path);
        Assert.Equal(before.Headers.ETag, after.Headers.ETag);
        var audit = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/audit-events?action=webhook_endpoint.updated"));
        Assert.Equal(0, audit.GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task Another_orgs_endpoints_and_deliveries_are_not_found()
    {
        var (ownerA, orgA) = await App.NewOrgAsync();
        var (ownerB, orgB) = await App.NewOrgAsync();
        var endpoint = await ownerA.CreateEndpointAsync(orgA, Hook);
        var deliveryId = RaptorFlow.Functions.Platform.Ids.IdGenerator.Derived("msg", DateTimeOffset.UtcNow, "evt");

        foreach (var suffix in new[] { "", "/secret", "/deliveries", $"/deliveries/{deliveryId}" })
        {
            using var response = await ownerB.Client.GetAsync(Url($"/api/v1/orgs/{orgB}/webhook-endpoints/{endpoint.Id}{suffix}"));
            await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, suffix.StartsWith("/deliveries/", StringComparison.Ordinal) ? "webhook.delivery_not_found" : "webhook.endpoint_not_found");
        }

        foreach (var suffix in new[] { "/rotate-secret", "/test", $"/deliveries/{deliveryId}/retry" })
        {
            using var response = await ownerB.Client.PostAsync(Url($"/api/v1/orgs/{orgB}/webhook-endpoints/{endpoint.Id}{suffix}"), null);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        using (var patch = await ownerB.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{orgB}/webhook-endpoints/{endpoint.Id}"), new { enabled = false }))
        {
            Assert.Equal(HttpStatusCode.NotFound, patch.StatusCode);
        }

        using (var delete = await ownerB.Client.DeleteAsync(Url($"/api/v1/orgs/{orgB}/webhook-endpoints/{endpoint.Id}")))
        {
            Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        }

        // Through A's route, B is no member: 404 as well.
        using var foreign = await ownerB.Client.GetAsync(Url($"/api/v1/orgs/{orgA}/webhook-endpoints/{endpoint.Id}"));
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        Assert.True((await ownerA.EndpointAsync(orgA, endpoint.Id)).GetProperty("enabled").GetBoolean());
    }

    private static async Task<HttpResponseMessage> PostAsync(TestUser user, string path, object body, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url(path)) { Content = JsonContent.Create(body) };
        request.Headers.Add(IdempotencyMiddleware.KeyHeader, key);
        return await user.Client.SendAsync(request);
    }

    private static async Task<JsonElement[]> ListAsync(TestUser user, string orgId)
    {
        using var response = await user.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/webhook-endpoints"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data").EnumerateArray()];
    }

    /// <summary>No raw property of any row of <paramref name="table"/> holds <paramref name="secret"/>, nor its key bytes.</summary>
    private async Task AssertNotStoredAsync(string table, string secret)
    {
        var key = secret["whsec_".Length..];
        await foreach (var row in App.Storage.Table(table).QueryAsync<TableEntity>())
        {
            foreach (var (name, value) in row)
            {
                var text = value switch
                {
                    byte[] bytes => Encoding.UTF8.GetString(bytes) + Convert.ToBase64String(bytes),
                    _ => value?.ToString() ?? "",
                };
                Assert.False(text.Contains(key, StringComparison.Ordinal), $"The secret is stored in plaintext in {name} of {table}.");
            }
        }
    }
}
