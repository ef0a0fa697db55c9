using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using RaptorFlow.Functions;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform;

public sealed class ReadinessTests
{
    [Fact]
    public async Task Readyz_is_a_503_problem_when_storage_is_unreachable_while_healthz_stays_200()
    {
        var connection = UnreachableStorage.ConnectionString();

        await using var app = Program.Build([
            "--urls=http://127.0.0.1:0", "--environment=Testing", $"--AzureWebJobsStorage={connection}",
            "--Hosting:Standalone:Enabled=false", "--Logging:LogLevel:Default=None",
        ]);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var client = new HttpClient { BaseAddress = new Uri(address) };

        using var health = await client.GetAsync(new Uri("/api/healthz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        using var ready = await client.GetAsync(new Uri("/api/readyz", UriKind.Relative));
        var problem = await ready.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "service.not_ready");
        Assert.Contains("storage", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await app.StopAsync();
    }
}
