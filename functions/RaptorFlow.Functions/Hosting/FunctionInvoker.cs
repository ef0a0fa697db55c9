using System.Diagnostics;
using RaptorFlow.Functions.Platform.Telemetry;

namespace RaptorFlow.Functions.Hosting;

/// <summary>
/// Runs a declared queue or timer function in its own DI scope. Both delivery paths (the
/// Functions host's <c>POST /{Name}</c> and the standalone triggers) come through here, so the
/// handler code is the same either way.
/// </summary>
public sealed partial class FunctionInvoker(
    IServiceScopeFactory scopes,
    IEnumerable<FunctionDeclaration> declarations,
    ILogger<FunctionInvoker> logger)
{
    private readonly Dictionary<string, FunctionDeclaration> _byName =
        declarations.ToDictionary(d => d.Name, StringComparer.OrdinalIgnoreCase);

    public IReadOnlyCollection<FunctionDeclaration> Declarations => _byName.Values;

    public FunctionDeclaration? Find(string name) => _byName.GetValueOrDefault(name);

    public Task InvokeQueueAsync(FunctionDeclaration function, QueueTriggerMessage message, CancellationToken cancellationToken) =>
        RunAsync(function, message.InvocationId, message.DequeueCount, handler =>
            ((IQueueFunction)handler).RunAsync(message, cancellationToken));

    public Task InvokeTimerAsync(FunctionDeclaration function, TimerTriggerInfo timer, CancellationToken cancellationToken) =>
        RunAsync(function, timer.InvocationId, 1, handler =>
            ((ITimerFunction)handler).RunAsync(timer, cancellationToken));

    private async Task RunAsync(FunctionDeclaration function, string invocationId, long attempt, Func<object, Task> run)
    {
        using var activity = Telemetry.Source.StartActivity($"function {function.Name}", ActivityKind.Consumer);
        activity?.SetTag("faas.name", function.Name);
        activity?.SetTag("faas.invocation_id", invocationId);
        activity?.SetTag("faas.trigger", function.Kind == FunctionTriggerKind.Queue ? "pubsub" : "timer");
        using var scope = logger.BeginScope(new LogScope(("FunctionName", function.Name), ("InvocationId", invocationId)));
        var started = Stopwatch.GetTimestamp();
        try
        {
            await using var services = scopes.CreateAsyncScope();
            await run(services.ServiceProvider.GetRequiredService(function.HandlerType));
            LogSucceeded(logger, function.Name, invocationId, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            AppMetrics.Invoked(function.Name, Trigger(function), true, started);
        }
        catch (Exception ex)
        {
            AppMetrics.Invoked(function.Name, Trigger(function), false, started);
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            LogFailed(logger, ex, function.Name, invocationId, attempt);
            throw;
        }
    }

    private static string Trigger(FunctionDeclaration function) => function.Kind == FunctionTriggerKind.Queue ? "queue" : "timer";

    [LoggerMessage(Level = LogLevel.Information, Message = "Function {FunctionName} invocation {InvocationId} succeeded in {ElapsedMs:0.0} ms")]
    private static partial void LogSucceeded(ILogger logger, string functionName, string invocationId, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Function {FunctionName} invocation {InvocationId} failed (attempt {Attempt})")]
    private static partial void LogFailed(ILogger logger, Exception exception, string functionName, string invocationId, long attempt);
}
