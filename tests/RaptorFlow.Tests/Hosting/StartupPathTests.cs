using System.Net;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using RaptorFlow.Functions;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Platform.Telemetry;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Hosting;

/// <summary>What the process does, and does not do, between exec and its first response.</summary>
public sealed class StartupPathTests
{
    [Fact]
    public async Task Without_Application_Insights_no_telemetry_pipeline_is_built()
    {
        await using var app = await StartAsync();

        Assert.Null(app.Services.GetService<TracerProvider>());
        Assert.Null(app.Services.GetService<MeterProvider>());
    }

    [Fact]
    public async Task With_Application_Insights_traces_and_metrics_are_exported_and_the_app_still_answers()
    {
        // A well-formed connection string whose ingestion endpoint refuses connections: export fails quietly.
        var connection = "InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint=http://127.0.0.1:9/";
        await using var app = await StartAsync($"--{Telemetry.ConnectionStringSetting}={connection}");

        Assert.NotNull(app.Services.GetService<TracerProvider>());
        Assert.NotNull(app.Services.GetService<MeterProvider>());
        using var client = new HttpClient { BaseAddress = Address(app) };
        using var health = await client.GetAsync(new Uri("/api/healthz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Waiting_for_the_host_to_start_completes_only_once_it_has_started()
    {
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);

        var waiting = HostStarted.WaitAsync(lifetime, CancellationToken.None);
        Assert.False(waiting.IsCompleted);

        lifetime.NotifyStarted();
        await waiting;
        Assert.True(HostStarted.WaitAsync(lifetime, CancellationToken.None).IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Waiting_for_the_host_to_start_ends_when_the_app_stops_first()
    {
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);
        using var stopping = new CancellationTokenSource();

        var waiting = HostStarted.WaitAsync(lifetime, stopping.Token);
        await stopping.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    [Fact]
    public async Task Storage_is_provisioned_only_after_the_host_has_started()
    {
        var (storage, table, lifetime, provisioner) = await ProvisionerOfOneTableAsync();
        using var disposing = provisioner;

        await provisioner.StartAsync(CancellationToken.None);
        Assert.False(provisioner.IsProvisioned);

        lifetime.NotifyStarted();
        await provisioner.WhenProvisioned.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(await ExistsAsync(storage.Tables, table));
        await provisioner.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_host_that_never_starts_provisions_nothing()
    {
        var (storage, table, _, provisioner) = await ProvisionerOfOneTableAsync();
        using var disposing = provisioner;

        await provisioner.StartAsync(CancellationToken.None);
        await provisioner.StopAsync(CancellationToken.None);

        Assert.False(provisioner.IsProvisioned);
        Assert.False(await ExistsAsync(storage.Tables, table));
    }

    private static async Task<(StorageAccount Storage, string Table, ApplicationLifetime Lifetime, StorageProvisioner Provisioner)> ProvisionerOfOneTableAsync()
    {
        var azurite = await Azurite.Shared;
        var table = "StartupPath" + Guid.NewGuid().ToString("N")[..12];
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [StorageAccount.SettingName] = azurite.ConnectionString })
            .Build();
        var storage = new StorageAccount(configuration);
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);
        var provisioner = new StorageProvisioner(
            storage, [new StorageResource(StorageResourceKind.Table, table)], lifetime, NullLogger<StorageProvisioner>.Instance);
        return (storage, table, lifetime, provisioner);
    }

    private static async Task<bool> ExistsAsync(TableServiceClient tables, string name)
    {
        await foreach (var _ in tables.QueryAsync(TableClient.CreateQueryFilter($"TableName eq {name}")))
        {
            return true;
        }

        return false;
    }

    private static async Task<WebApplication> StartAsync(params string[] more)
    {
        var azurite = await Azurite.Shared;
        var app = Program.Build([
            "--urls=http://127.0.0.1:0", "--environment=Testing", $"--AzureWebJobsStorage={azurite.ConnectionString}",
            "--Hosting:Standalone:Enabled=false", "--Logging:LogLevel:Default=None", .. more,
        ]);
        await app.StartAsync();
        return app;
    }

    private static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
}
