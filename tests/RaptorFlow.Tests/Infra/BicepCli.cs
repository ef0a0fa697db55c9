using System.Diagnostics;
using System.Reflection;

namespace RaptorFlow.Tests.Infra;

/// <summary>
/// The Bicep compiler from the NuGet package the test project downloads
/// (<c>Azure.Bicep.CommandLine.linux-x64</c>), so CI needs no Azure CLI and no network.
/// </summary>
public static class BicepCli
{
    private static readonly Lazy<string> Executable = new(Locate);

    public static string Path => Executable.Value;

    public static Task<BicepRun> RunAsync(string workingDirectory, params string[] arguments) =>
        RunAsync(workingDirectory, daysAhead: 0, arguments);

    /// <summary>
    /// Runs the compiler with its clock <paramref name="daysAhead"/> days in the future, under
    /// libfaketime (Debian's <c>faketime</c>, installed by scripts/bootstrap.sh): the linter's
    /// API-version age checks read the wall clock, which the .NET runtime gets from libc.
    /// </summary>
    public static async Task<BicepRun> RunAsync(string workingDirectory, int daysAhead, params string[] arguments)
    {
        var start = new ProcessStartInfo(daysAhead == 0 ? Path : FakeTime)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (daysAhead != 0)
        {
            start.ArgumentList.Add("-f");
            start.ArgumentList.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{daysAhead:+0;-0}d"));
            start.ArgumentList.Add(Path);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Path}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();

        // A guard against a hung compiler, not a performance assertion.
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(guard.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', arguments)} did not finish.");
        }

        return new BicepRun(process.ExitCode, await output, await errors);
    }

    private static string FakeTime =>
        Environment.GetEnvironmentVariable("PATH")?.Split(System.IO.Path.PathSeparator)
            .Select(directory => System.IO.Path.Combine(directory, "faketime"))
            .FirstOrDefault(File.Exists)
        ?? throw new FileNotFoundException("faketime is not installed; run scripts/bootstrap.sh (it installs Debian's faketime package).");

    private static string Locate()
    {
        var path = typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "BicepCli").Value
            ?? throw new InvalidOperationException("The test assembly does not name the Bicep CLI.");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException("The Bicep CLI package was not restored; run `dotnet restore`.", path);
        }

        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The infra tests run the linux-x64 Bicep CLI.");
        }

        // Some package extractions drop the Unix execute bit.
        var mode = File.GetUnixFileMode(path);
        if (!mode.HasFlag(UnixFileMode.UserExecute))
        {
            File.SetUnixFileMode(path, mode | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        }

        return path;
    }
}

public sealed record BicepRun(int ExitCode, string Output, string Errors)
{
    /// <summary>Everything the compiler said; empty when it had no diagnostic at all.</summary>
    public string Diagnostics => (Output + Errors).Trim();
}
