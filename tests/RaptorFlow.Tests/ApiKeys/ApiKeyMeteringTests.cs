using System.Net;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Functions.Usage;
using RaptorFlow.Tests.Fixtures;
using static RaptorFlow.Tests.ApiKeys.ApiKeyTestKit;

namespace RaptorFlow.Tests.ApiKeys;

public sealed class ApiKeyMeteringTests
{
    [Fact]
    public async Task Every_request_authenticated_by_a_key_counts_one_api_call_in_memory()
    {
        // The fake clock never advances, so the meter's background flush never runs during the test.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await ApiKeyTestKit.StartAsync(clock);
        var (owner, orgId) = await app.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, "org:read");
        var meter = app.Services.GetRequiredService<BufferedUsageMeter>();
        var before = meter.PendingQuantity;

        using var client = app.KeyClient(key.Secret);
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.GetAsync(Url($"/api/v1/orgs/{orgId}"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(before + 3, meter.PendingQuantity);

        // A signed-in user's requests are not API traffic.
        using (var byUser = await owner.Client.GetAsync(Url($"/api/v1/orgs/{orgId}")))
        {
            Assert.Equal(HttpStatusCode.OK, byUser.StatusCode);
        }

        Assert.Equal(before + 3, meter.PendingQuantity);
    }
}
