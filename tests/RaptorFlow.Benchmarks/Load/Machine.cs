using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>What the figures were measured on, and the memory of a process from /proc.</summary>
public static class Machine
{
    public static JsonObject Describe() => new()
    {
        ["cpu"] = ProcField("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString(),
        ["logicalCores"] = Environment.ProcessorCount,
        ["memoryMiB"] = (ProcKiB("/proc/meminfo", "MemTotal") ?? 0) / 1024,
        ["os"] = RuntimeInformation.OSDescription,
        ["runtime"] = RuntimeInformation.FrameworkDescription,
        ["loadAverage"] = LoadAverage(),
    };

    /// <summary>The 1, 5 and 15 minute load averages (/proc/loadavg): the machine is shared, so every figure carries what else ran.</summary>
    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    public static string Summary()
    {
        var m = Describe();
        return $"{m["cpu"]}, {m["logicalCores"]} logical cores, {m["memoryMiB"]} MiB, {m["os"]}, {m["runtime"]}, load {m["loadAverage"]}";
    }

    /// <summary>Resident set (working set) of a process, in MiB.</summary>
    public static double? WorkingSetMiB(int pid) => ProcKiB($"/proc/{pid}/status", "VmRSS") / 1024.0;

    /// <summary>Peak resident set of a process, in MiB.</summary>
    public static double? PeakWorkingSetMiB(int pid) => ProcKiB($"/proc/{pid}/status", "VmHWM") / 1024.0;

    private static long? ProcKiB(string file, string field) =>
        ProcField(file, field) is { } value && long.TryParse(value.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], out var kib) ? kib : null;

    private static string? ProcField(string file, string field)
    {
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && line[..colon].Trim() == field)
                {
                    return line[(colon + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }

        return null;
    }
}
