using RaptorFlow.Functions.Hosting;

namespace RaptorFlow.Functions.Usage;

/// <summary>Timer <c>RollupUsage</c>, hourly at minute 5: rolls up every pending hour.</summary>
public sealed class RollupUsage(UsageRollup rollup) : ITimerFunction
{
    public const string FunctionName = "RollupUsage";
    public const string Schedule = "0 5 * * * *";

    public Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken) => rollup.RunAsync(cancellationToken);
}
