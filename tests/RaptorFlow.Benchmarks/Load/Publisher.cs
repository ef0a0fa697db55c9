using System.Diagnostics;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>Publishes the app and the empty baseline the project's normal way, into temp folders.</summary>
public static class Publisher
{
    public const string AppExecutable = "RaptorFlow.Functions";
    public const string EmptyAppExecutable = "EmptyApp";

    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(10);

    public static Task<string> PublishAppAsync(string repositoryRoot, string workFolder) =>
        PublishAsync(Path.Combine(repositoryRoot, "functions", "RaptorFlow.Functions", "RaptorFlow.Functions.csproj"), Path.Combine(workFolder, "app"));

    /// <summary>Copies the baseline's sources out of the repository (so no Directory.Build.props applies) and publishes them.</summary>
    public static async Task<string> PublishEmptyAppAsync(string repositoryRoot, string workFolder) =>
        await PublishAsync(CopyEmptyApp(repositoryRoot, workFolder, "empty-src"), Path.Combine(workFolder, "empty"));

    /// <summary>
    /// The same empty app as Native AOT, to show what the other start-up model is worth on this
    /// machine. The AOT compiler links with clang, or with gcc where there is no clang.
    /// </summary>
    public static async Task<string> PublishEmptyAppAsNativeAotAsync(string repositoryRoot, string workFolder)
    {
        var aot = new List<string> { "-p:PublishAot=true", "-p:PublishReadyToRun=false" };
        if (!OnPath("clang") && OnPath("gcc"))
        {
            aot.Add("-p:CppCompilerAndLinker=gcc");
        }

        return await PublishAsync(CopyEmptyApp(repositoryRoot, workFolder, "empty-aot-src"), Path.Combine(workFolder, "empty-aot"), aot);
    }

    private static string CopyEmptyApp(string repositoryRoot, string workFolder, string name)
    {
        var source = Path.Combine(workFolder, name);
        Directory.CreateDirectory(source);
        foreach (var file in new[] { "EmptyApp.csproj", "Program.cs" })
        {
            File.Copy(Path.Combine(repositoryRoot, "tests", "RaptorFlow.Benchmarks", "EmptyApp", file), Path.Combine(source, file), overwrite: true);
        }

        return Path.Combine(source, "EmptyApp.csproj");
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(dir => File.Exists(Path.Combine(dir, tool)));

    private static async Task<string> PublishAsync(string project, string output, IEnumerable<string>? properties = null)
    {
        Console.WriteLine($"  publishing {Path.GetFileName(project)} -> {output}");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "publish", project, "-c", "Release", "-o", output, "-nologo" }.Concat(properties ?? []))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start dotnet publish.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(PublishTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // Nothing may outlive the driver: the publish and the build servers it started go with it.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"dotnet publish {project} did not finish within {PublishTimeout.TotalMinutes:F0} minutes (a busy machine?).");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish {project} failed:\n{await stdout}\n{await stderr}");
        }

        return output;
    }
}
