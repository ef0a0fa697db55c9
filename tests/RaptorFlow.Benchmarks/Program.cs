using BenchmarkDotNet.Running;
using RaptorFlow.Benchmarks.Load;

namespace RaptorFlow.Benchmarks;

/// <summary>
/// <c>micro [filter] [BenchmarkDotNet options]</c> runs the micro-benchmarks of every feature;
/// <c>load &lt;scenario|all&gt; [options]</c> runs the load driver against the published app.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        switch (args)
        {
            case ["micro", .. var rest]:
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(MicroArguments(rest));
                return 0;
            case ["load", .. var rest]:
                return await LoadDriver.RunAsync(rest);
            default:
                Console.Error.WriteLine(LoadDriver.Usage);
                return 2;
        }
    }

    /// <summary>A bare first argument is a filter; no filter runs everything instead of prompting.</summary>
    private static string[] MicroArguments(string[] rest) => rest switch
    {
        [] => ["--filter", "*"],
        [var filter, .. var more] when !filter.StartsWith('-') => ["--filter", filter, .. more],
        _ when !rest.Contains("--filter") && !rest.Contains("-f") => ["--filter", "*", .. rest],
        _ => rest,
    };
}
