using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform.Storage;

/// <summary>
/// On brand-new storage (an empty Azurite), the first requests and host invocations arrive while
/// nothing is provisioned yet: each waits for provisioning instead of failing with "table does not exist".
/// </summary>
public sealed class FreshStorageTests
{
    [Fact]
    public async Task Requests_and_invocations_right_after_start_on_empty_storage_all_succeed()
    {
        using var azurite = await Azurite.StartFreshAsync();
        await using var app = await TestApp.StartAsync(
            SignedInUsers.WithDevIssuer(), storage: azurite.ConnectionString, hostDrivesTriggers: true, waitUntilReady: false);
        var provisioner = app.Services.GetRequiredService<StorageProvisioner>();
        Assert.False(provisioner.IsProvisioned);
        using var client = app.CreateClient();
        client.Timeout = TimeSpan.FromSeconds(90);

        // No readiness wait: everything is sent at once, the moment the server listens.
        var timer = SendAsync(client, HostInvocations.Request(Heartbeat.TimerName, HostInvocations.TimerEnvelope()));
        var queue = SendAsync(client, HostInvocations.Request(Heartbeat.QueueFunctionName, HostInvocations.QueueTextEnvelope("2026-11-23T10:00:00.0000000+00:00")));
        var orgs = Enumerable.Range(0, 3).Select(_ => CreateOrgAsync(client)).ToList();

        Assert.Equal(HttpStatusCode.OK, await timer);
        Assert.Equal(HttpStatusCode.OK, await queue);
        Assert.All(await Task.WhenAll(orgs), status => Assert.Equal(HttpStatusCode.Created, status));
        Assert.True(provisioner.IsProvisioned);
    }

    [Fact]
    public async Task A_storage_call_before_any_response_starts_provisioning_and_waits_for_it()
    {
        var table = "Gate" + Guid.NewGuid().ToString("N")[..12];
        // Time stands still and nothing is requested: only the storage call itself can start provisioning.
        await using var app = await TestApp.StartAsync(
            customize: builder => builder.Services.AddStorageTable(table),
            clock: new FakeTimeProvider(DateTimeOffset.UtcNow), hostDrivesTriggers: true, waitUntilReady: false);
        var provisioner = app.Services.GetRequiredService<StorageProvisioner>();
        Assert.False(provisioner.IsProvisioned);

        var storage = app.Services.GetRequiredService<StorageAccount>();
        await storage.Table(table).AddEntityAsync(new Azure.Data.Tables.TableEntity("p", "r"));

        Assert.True(provisioner.IsProvisioned);
    }

    private static async Task<HttpStatusCode> SendAsync(HttpClient client, HttpRequestMessage request)
    {
        using (request)
        {
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }
    }

    private static async Task<HttpStatusCode> CreateOrgAsync(HttpClient client)
    {
        using var token = await client.PostAsJsonAsync(new Uri("/api/dev/token", UriKind.Relative), new { sub = SignedInUsers.NewUserId() });
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        var accessToken = (await token.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString();
        using var create = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orgs") { Content = JsonContent.Create(new { name = "Fresh" }) };
        create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await client.SendAsync(create);
        return response.StatusCode;
    }
}
