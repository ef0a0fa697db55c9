using System.Diagnostics;
using System.Diagnostics.Metrics;
using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace RaptorFlow.Functions.Platform.Telemetry;

/// <summary>The app's own traces and metrics, exported to Azure Monitor when Application Insights is configured (and not collected at all otherwise).</summary>
public static class Telemetry
{
    public const string Name = "RaptorFlow";
    public const string ConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>The app's user-assigned identity (set by infra/), which Application Insights' Monitoring Metrics Publisher role is granted to.</summary>
    public const string ClientIdSetting = "AZURE_CLIENT_ID";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        // Structured JSON lines for machines; a readable single line on a developer's console.
        if (builder.Environment.IsDevelopment())
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
        }
        else
        {
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }

        // Without Application Insights nothing would read the spans and metrics, so the SDK is not
        // registered at all: its listeners and providers cost start-up time and a little per request.
        var connectionString = builder.Configuration[ConnectionStringSetting];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return builder;
        }

        // With the identity, ingestion is authorized by Entra ID, so Application Insights can refuse
        // instrumentation-key-only telemetry (infra/ sets DisableLocalAuth).
        var credential = ExporterCredential(builder.Configuration);
        void Exporter(AzureMonitorExporterOptions o)
        {
            o.ConnectionString = connectionString;
            if (credential is not null)
            {
                o.Credential = credential;
            }
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName: builder.Configuration["WEBSITE_SITE_NAME"] ?? "raptorflow-functions"))
            .WithTracing(tracing => tracing
                .AddSource(Name)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddAzureMonitorTraceExporter(Exporter))
            .WithMetrics(metrics => metrics
                .AddMeter(Name)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddAzureMonitorMetricExporter(Exporter));
        builder.Logging.AddOpenTelemetry(o => o.AddAzureMonitorLogExporter(Exporter));

        return builder;
    }

    /// <summary>The managed identity named by <c>AZURE_CLIENT_ID</c>; none (instrumentation key only) without it, as on a developer's machine.</summary>
    internal static TokenCredential? ExporterCredential(IConfiguration configuration) =>
        configuration[ClientIdSetting] is { Length: > 0 } clientId
            ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
            : null;
}
