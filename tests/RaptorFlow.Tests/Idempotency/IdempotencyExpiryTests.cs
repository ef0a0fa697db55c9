using System.Net;
using System.Net.Http.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Idempotency;

public sealed class IdempotencyExpiryTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(
        SignedInUsers.WithDevIssuer(new Dictionary<string, string?> { ["Auth:DevIssuer:TokenLifetimeMinutes"] = "1440" }),
        clock: _clock);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static HttpRequestMessage CreateOrg(string name, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/v1/orgs", UriKind.Relative)) { Content = JsonContent.Create(new { name }) };
        request.Headers.Add(IdempotencyMiddleware.KeyHeader, key);
        return request;
    }

    [Fact]
    public async Task After_24_hours_a_key_starts_afresh()
    {
        var key = Guid.NewGuid().ToString();
        var user = await _app.SignInAsync();
        using (var first = await user.Client.SendAsync(CreateOrg("Day one", key)))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        _clock.Advance(TimeSpan.FromHours(23));
        user = await _app.SignInAsync(user.Id);
        using (var reused = await user.Client.SendAsync(CreateOrg("Day two", key)))
        {
            await reused.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency.key_reused");
        }

        _clock.Advance(TimeSpan.FromHours(2));
        user = await _app.SignInAsync(user.Id);
        using (var fresh = await user.Client.SendAsync(CreateOrg("Day two", key)))
        {
            Assert.Equal(HttpStatusCode.Created, fresh.StatusCode);
            Assert.False(fresh.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        }

    }

    /// <summary>Runs the purge at the real time, so records of tests running alongside (24 h from now) are untouched.</summary>
    [Fact]
    public async Task The_purge_deletes_expired_records_only()
    {
        await using var app = await TestApp.StartAsync(SignedInUsers.WithDevIssuer());
        var table = app.Storage.Table(IdempotencyRegistration.TableName);
        var now = DateTimeOffset.UtcNow;
        var expired = new TableEntity("purge-test-" + Guid.NewGuid().ToString("N"), "") { ["State"] = "done", ["ExpiresAt"] = now.AddHours(-1) };
        var live = new TableEntity("purge-test-" + Guid.NewGuid().ToString("N"), "") { ["State"] = "done", ["ExpiresAt"] = now.AddHours(1) };
        await table.AddEntityAsync(expired);
        await table.AddEntityAsync(live);

        using (var scope = app.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<PurgeIdempotencyKeys>()
                .RunAsync(new TimerTriggerInfo(false, null, null, "test"), CancellationToken.None);
        }

        Assert.False((await table.GetEntityIfExistsAsync<TableEntity>(expired.PartitionKey, "")).HasValue);
        Assert.True((await table.GetEntityIfExistsAsync<TableEntity>(live.PartitionKey, "")).HasValue);
    }
}
