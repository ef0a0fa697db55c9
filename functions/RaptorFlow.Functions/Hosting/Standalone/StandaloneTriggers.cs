namespace RaptorFlow.Functions.Hosting.Standalone;

/// <summary>
/// Starts one poller per queue function and one scheduler per timer function, only when no
/// Functions host is driving the process (the host then owns the triggers). A function disabled
/// with the host's own app setting, <c>AzureWebJobs.&lt;FunctionName&gt;.Disabled</c>, is not started.
/// </summary>
public sealed partial class StandaloneTriggers(
    IServiceProvider services,
    IEnumerable<FunctionDeclaration> declarations,
    IConfiguration configuration,
    ILogger<StandaloneTriggers> logger) : IHostedService
{
    private readonly List<BackgroundService> _running = [];

    /// <summary>The host's setting, also read as <c>AzureWebJobs:&lt;name&gt;:Disabled</c>: the shape
    /// <c>AzureWebJobs__&lt;name&gt;__Disabled</c> takes where environment variable names cannot hold dots.</summary>
    public static bool IsDisabled(IConfiguration configuration, string functionName) =>
        configuration.GetValue($"AzureWebJobs.{functionName}.Disabled", false)
        || configuration.GetValue($"AzureWebJobs:{functionName}:Disabled", false);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var function in declarations)
        {
            if (IsDisabled(configuration, function.Name))
            {
                LogDisabled(logger, function.Name);
                continue;
            }

            BackgroundService trigger = function.Kind == FunctionTriggerKind.Queue
                ? ActivatorUtilities.CreateInstance<QueuePoller>(services, function)
                : ActivatorUtilities.CreateInstance<TimerScheduler>(services, function);
            _running.Add(trigger);
            await trigger.StartAsync(cancellationToken);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(_running.Select(t => t.StopAsync(cancellationToken)));
        foreach (var trigger in _running)
        {
            trigger.Dispose();
        }

        _running.Clear();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Function {FunctionName} is disabled by its AzureWebJobs.{FunctionName}.Disabled setting; its trigger does not run")]
    private static partial void LogDisabled(ILogger logger, string functionName);
}
