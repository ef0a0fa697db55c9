using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using RaptorFlow.Functions;

namespace RaptorFlow.Tests.Platform.Telemetry;

/// <summary>
/// The app's Azure Monitor exporters authenticate with its managed identity, so Application
/// Insights can refuse instrumentation-key-only ingestion (infra/ disables local auth).
/// Checked on the registration only: nothing is sent.
/// </summary>
public sealed class TelemetryCredentialTests
{
    // A well-formed connection string whose ingestion endpoint refuses connections.
    private const string Connection = "InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint=http://127.0.0.1:9/";

    [Fact]
    public async Task With_AZURE_CLIENT_ID_the_exporters_get_a_managed_identity_credential()
    {
        await using var app = Build("--AZURE_CLIENT_ID=00000000-0000-0000-0000-0000000000c1");

        var options = ExporterOptions(app);

        Assert.Equal(Connection, options.ConnectionString);
        Assert.IsType<ManagedIdentityCredential>(options.Credential);
    }

    [Fact]
    public async Task Without_AZURE_CLIENT_ID_the_exporters_use_the_connection_string_alone()
    {
        await using var app = Build();

        var options = ExporterOptions(app);

        Assert.Equal(Connection, options.ConnectionString);
        Assert.Null(options.Credential);
    }

    /// <summary>
    /// The options the trace and metric exporters were built with: building the providers runs the
    /// app's configuration of the shared (unnamed) options instance, as at start-up.
    /// </summary>
    private static AzureMonitorExporterOptions ExporterOptions(WebApplication app)
    {
        Assert.NotNull(app.Services.GetService<TracerProvider>());
        Assert.NotNull(app.Services.GetService<MeterProvider>());
        return app.Services.GetRequiredService<IOptionsMonitor<AzureMonitorExporterOptions>>().Get(Options.DefaultName);
    }

    private static WebApplication Build(params string[] more) => Program.Build([
        "--environment=Testing", "--AzureWebJobsStorage=UseDevelopmentStorage=true",
        $"--{Functions.Platform.Telemetry.Telemetry.ConnectionStringSetting}={Connection}", .. more,
    ]);
}
