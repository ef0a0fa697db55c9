using System.Net;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform;

public sealed class ReadinessTests
{
    [Fact]
    public async Task Readyz_is_a_503_problem_when_storage_is_unreachable_while_healthz_stays_200()
    {
        var connection = UnreachableStorage.ConnectionString();

        await using var app = await TestApp.StartAsync(storage: connection, hostDrivesTriggers: true, waitUntilReady: false);
        var client = app.Client;

        using var health = await client.GetAsync(new Uri("/api/healthz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        using var ready = await client.GetAsync(new Uri("/api/readyz", UriKind.Relative));
        var problem = await ready.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "service.not_ready");
        Assert.Contains("storage", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
