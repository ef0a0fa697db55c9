using RaptorFlow.Functions.Hosting.Standalone;
using RaptorFlow.Functions.Platform.Settings;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Hosting;

/// <summary>
/// How the process is reached and triggered. Under the Functions host it listens on loopback at
/// <c>FUNCTIONS_CUSTOMHANDLER_PORT</c> and the host owns the triggers; standalone it listens on
/// <c>Hosting:Url</c> (default <c>http://127.0.0.1:7071</c>, or <c>--urls</c>) and runs the queue
/// and timer triggers itself.
/// </summary>
public static class FunctionHost
{
    public const string CustomHandlerPortSetting = "FUNCTIONS_CUSTOMHANDLER_PORT";
    public const string DefaultUrl = "http://127.0.0.1:7071";

    public static bool IsUnderFunctionsHost(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[CustomHandlerPortSetting]);

    public static WebApplicationBuilder AddFunctionHost(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var port = configuration[CustomHandlerPortSetting];
        if (!string.IsNullOrWhiteSpace(port))
        {
            if (!int.TryParse(port, out var number) || number is < 1 or > 65535)
            {
                throw new InvalidOperationException($"{CustomHandlerPortSetting} must be a TCP port number, not '{port}'.");
            }

            builder.WebHost.UseUrls($"http://127.0.0.1:{number}");
        }
        else if (string.IsNullOrWhiteSpace(configuration["urls"]))
        {
            builder.WebHost.UseUrls(configuration["Hosting:Url"] ?? DefaultUrl);
        }

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);

        var services = builder.Services;
        services.AddSettings<StandaloneTriggerSettings>();
        services.AddSingleton<FunctionInvoker>();
        services.AddStorageContainer(TimerScheduler.StatusContainer);
        if (!IsUnderFunctionsHost(configuration) && configuration.GetValue("Hosting:Standalone:Enabled", true))
        {
            services.AddHostedService<StandaloneTriggers>();
        }

        return builder;
    }

    public static WebApplication MapFunctionHost(this WebApplication app)
    {
        app.MapFunctionInvocations();
        return app;
    }
}
