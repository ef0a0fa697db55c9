using System.Net;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using RaptorFlow.Functions;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Lifetime;
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
        await using var app = await TestApp.StartAsync(hostDrivesTriggers: true, waitUntilReady: false);

        Assert.Null(app.Services.GetService<TracerProvider>());
        Assert.Null(app.Services.GetService<MeterProvider>());
    }

    [Fact]
    public async Task With_Application_Insights_traces_and_metrics_are_exported_and_the_app_still_answers()
    {
        // A well-formed connection string whose ingestion endpoint refuses connections: export fails quietly.
        var connection = "InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint=http://127.0.0.1:9/";
        await using var app = await TestApp.StartAsync(
            new Dictionary<string, string?> { [Telemetry.ConnectionStringSetting] = connection }, hostDrivesTriggers: true, waitUntilReady: false);

        Assert.NotNull(app.Services.GetService<TracerProvider>());
        Assert.NotNull(app.Services.GetService<MeterProvider>());
        using var health = await app.Client.GetAsync(new Uri("/api/healthz", UriKind.Relative));
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

    [Fact]
    public void Capability_enforcement_takes_its_services_in_the_constructor()
    {
        // Services as InvokeAsync parameters make UseMiddleware compile an expression at every start.
        var invoke = Assert.Single(typeof(CapabilityEnforcement).GetMethods(), m => m.Name == "InvokeAsync");
        Assert.Equal([typeof(HttpContext)], invoke.GetParameters().Select(p => p.ParameterType));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task The_data_protection_key_ring_is_not_loaded_at_start(bool devIssuer, bool entra)
    {
        string[] entraSettings = entra
            ? ["--AzureAd:Instance=https://login.microsoftonline.com/", "--AzureAd:TenantId=00000000-0000-0000-0000-000000000001", "--AzureAd:ClientId=00000000-0000-0000-0000-000000000002"]
            : [];
        await using var app = Program.Build([
            "--environment=Testing", "--AzureWebJobsStorage=UseDevelopmentStorage=true", $"--Auth:DevIssuer:Enabled={devIssuer}", .. entraSettings]);

        var hosted = app.Services.GetServices<IHostedService>().Select(s => s.GetType().FullName).ToList();
        Assert.Contains(typeof(StorageProvisioner).FullName, hosted);
        Assert.DoesNotContain(hosted, name => name!.Contains("DataProtection", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Storage_is_provisioned_once_the_first_request_has_been_answered()
    {
        var table = "FirstResponse" + Guid.NewGuid().ToString("N")[..12];
        // Time stands still, so only the first response, not the grace period, can start provisioning.
        await using var app = await TestApp.StartAsync(customize: builder =>
        {
            builder.Services.AddSingleton<TimeProvider>(new FakeTimeProvider(DateTimeOffset.UtcNow));
            builder.Services.AddStorageTable(table);
        });
        var provisioner = app.Services.GetRequiredService<StorageProvisioner>();

        // TestApp.StartAsync returns once /api/readyz says ready: its first probe was the first response.
        Assert.True(app.Services.GetRequiredService<FirstResponse>().IsAnswered);
        await provisioner.WhenProvisioned.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(await ExistsAsync(app.Storage.Tables, table));
    }

    [Fact]
    public async Task Before_any_response_storage_is_not_provisioned_and_readiness_says_so()
    {
        var table = "FirstResponse" + Guid.NewGuid().ToString("N")[..12];
        await using var app = await TestApp.StartAsync(
            customize: builder => builder.Services.AddStorageTable(table),
            clock: new FakeTimeProvider(DateTimeOffset.UtcNow), hostDrivesTriggers: true, waitUntilReady: false);
        var provisioner = app.Services.GetRequiredService<StorageProvisioner>();

        Assert.False(app.Services.GetRequiredService<FirstResponse>().IsAnswered);
        Assert.False(provisioner.IsProvisioned);
        // Looked at past the app's gate: a call through the app's own clients would start provisioning.
        Assert.False(await ExistsAsync(new StorageAccount(app.Services.GetRequiredService<IConfiguration>()).Tables, table));
        Assert.False(provisioner.IsProvisioned);

        var client = app.Client;
        using (var first = await client.GetAsync(new Uri("/api/readyz", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        }

        await provisioner.WhenProvisioned.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(await ExistsAsync(app.Services.GetRequiredService<StorageAccount>().Tables, table));
        using var ready = await client.GetAsync(new Uri("/api/readyz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task Without_any_request_the_wait_ends_a_grace_period_after_the_host_started()
    {
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var firstResponse = new FirstResponse(lifetime, time);
        lifetime.NotifyStarted();

        var waiting = firstResponse.WaitAsync(CancellationToken.None);
        time.Advance(FirstResponse.Grace - TimeSpan.FromMilliseconds(1));
        Assert.False(waiting.IsCompleted);

        time.Advance(TimeSpan.FromMilliseconds(1));
        await waiting.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(firstResponse.IsAnswered);
    }

    [Fact]
    public async Task Before_the_host_has_started_the_grace_period_does_not_run()
    {
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var stopping = new CancellationTokenSource();

        var waiting = new FirstResponse(lifetime, time).WaitAsync(stopping.Token);
        time.Advance(FirstResponse.Grace * 2);
        Assert.False(waiting.IsCompleted);

        await stopping.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    [Fact]
    public async Task The_wait_ends_when_the_app_stops_first()
    {
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);
        var firstResponse = new FirstResponse(lifetime, new FakeTimeProvider());
        using var stopping = new CancellationTokenSource();
        lifetime.NotifyStarted();

        var waiting = firstResponse.WaitAsync(stopping.Token);
        await stopping.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
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
}
