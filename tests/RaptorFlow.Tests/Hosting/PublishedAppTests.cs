using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Hosting;

/// <summary>
/// `dotnet publish` (what azd runs) must yield a zip-deployable custom-handler app: host.json and
/// the function folders at the root, a self-contained linux-x64 executable, and a launcher that
/// starts it even when the zip lost the execute bit.
/// </summary>
/// <summary>One `dotnet publish` for all the tests of the class.</summary>
public sealed class PublishedApp : IAsyncLifetime
{
    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "raptorflow-publish-" + Guid.NewGuid().ToString("N")[..8]);

    public async Task InitializeAsync()
    {
        var publish = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepositoryRoot.Path,
        };
        foreach (var arg in new[] { "publish", "functions/RaptorFlow.Functions/RaptorFlow.Functions.csproj", "-c", "Release", "-o", Folder, "-nologo" })
        {
            publish.ArgumentList.Add(arg);
        }

        using var process = Process.Start(publish)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"dotnet publish failed:\n{await output}\n{await errors}");
    }

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }
}

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PublishedAppTests(PublishedApp published) : IClassFixture<PublishedApp>
{
    private readonly string _publishDir = published.Folder;

    [Fact]
    public void Publish_output_is_a_custom_handler_function_app()
    {
        Assert.True(File.Exists(Path.Combine(_publishDir, "host.json")));
        Assert.True(File.Exists(Path.Combine(_publishDir, "launch.sh")));
        foreach (var folder in Directory.GetDirectories(RepositoryRoot.Combine("functions", "RaptorFlow.Functions", "function-app")))
        {
            var name = Path.GetFileName(folder);
            Assert.True(File.Exists(Path.Combine(_publishDir, name, "function.json")), $"{name}/function.json is missing from the publish root");
        }

        // Self-contained linux-x64: an ELF executable and the runtime beside it, no shared framework needed.
        var executable = File.ReadAllBytes(Path.Combine(_publishDir, "RaptorFlow.Functions"));
        Assert.Equal([0x7F, (byte)'E', (byte)'L', (byte)'F'], executable[..4]);
        Assert.True(File.Exists(Path.Combine(_publishDir, "libcoreclr.so")));
        Assert.True(File.Exists(Path.Combine(_publishDir, "libhostfxr.so")));
        using var runtimeConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(_publishDir, "RaptorFlow.Functions.runtimeconfig.json")));
        Assert.True(runtimeConfig.RootElement.GetProperty("runtimeOptions").TryGetProperty("includedFrameworks", out _));
    }

    [Fact]
    public async Task Published_app_starts_through_the_launcher_without_the_execute_bit_and_answers_the_host()
    {
        var executable = Path.Combine(_publishDir, "RaptorFlow.Functions");
        File.SetUnixFileMode(executable, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var azurite = await Azurite.Shared;
        var port = FreePort();
        var start = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = _publishDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("launch.sh");
        start.Environment["FUNCTIONS_CUSTOMHANDLER_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["AzureWebJobsStorage"] = azurite.ConnectionString;
        start.Environment["Logging__LogLevel__Default"] = "Warning";

        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };

            // The host polls GET / until anything answers.
            Assert.True(await AnswersAsync(client, TimeSpan.FromSeconds(30)), "The published app did not start listening.");
            using var health = await client.GetAsync(new Uri("/api/healthz", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);

            using var invoked = await client.InvokeAsync("RecordHeartbeat", HostInvocations.QueueTextEnvelope("2026-11-23T10:00:00.0000000+00:00"));
            Assert.Equal(HttpStatusCode.OK, invoked.StatusCode);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    [Theory]
    [InlineData("launch.sh")]
    [InlineData("host.json")]
    [InlineData("Api/function.json")]
    public void Files_the_linux_host_reads_have_lf_line_endings(string file)
    {
        // A CRLF launch.sh fails in /bin/sh on `set -e\r`; .gitattributes keeps Windows checkouts LF.
        var bytes = File.ReadAllBytes(Path.Combine(_publishDir, file));
        Assert.NotEmpty(bytes);
        Assert.DoesNotContain((byte)'\r', bytes);
    }

    [Fact]
    public void Gitattributes_keeps_shell_scripts_and_host_files_lf_on_every_checkout()
    {
        var lines = File.ReadAllLines(RepositoryRoot.Combine(".gitattributes")).Select(l => l.Trim()).ToList();
        foreach (var pattern in new[] { "*.sh", "host.json", "function.json" })
        {
            Assert.Contains(lines, l => l.StartsWith(pattern + " ", StringComparison.Ordinal) && l.Contains("eol=lf", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Publish_writes_the_build_id_the_launcher_keys_its_copy_on_from_the_app_assembly()
    {
        var buildId = File.ReadAllText(Path.Combine(_publishDir, "build.id")).Trim();
        var assemblyHash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(_publishDir, "RaptorFlow.Functions.dll"))));
        Assert.Equal(assemblyHash, buildId, ignoreCase: true);
    }

    [Fact]
    public async Task On_a_read_only_package_the_launcher_runs_a_linked_copy_of_the_apphost_keyed_by_the_build()
    {
        var executable = Path.Combine(_publishDir, "RaptorFlow.Functions");
        File.SetUnixFileMode(executable, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var temp = Directory.CreateTempSubdirectory("raptorflow-launch-").FullName;
        var azurite = await Azurite.Shared;
        var port = FreePort();

        // A private mount namespace where the publish folder is a read-only bind mount, as Flex
        // Consumption mounts the package: chmod fails there with EROFS, even for root.
        var start = new ProcessStartInfo("unshare")
        {
            WorkingDirectory = _publishDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "--mount", "--map-root-user", "sh", "-c", "mount --bind -o ro \"$0\" \"$0\" && cd \"$0\" && exec sh launch.sh", _publishDir })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["TMPDIR"] = temp;
        start.Environment["FUNCTIONS_CUSTOMHANDLER_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["AzureWebJobsStorage"] = azurite.ConnectionString;
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Hosting__Standalone__Enabled"] = "false";

        var said = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => said.Enqueue(e.Data ?? "");
        process.ErrorDataReceived += (_, e) => said.Enqueue(e.Data ?? "");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            Assert.True(await AnswersAsync(client, TimeSpan.FromSeconds(60)), "The app did not start from a read-only package:\n" + string.Join('\n', said));
            using var health = await client.GetAsync(new Uri("/api/healthz", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);

            var buildId = File.ReadAllText(Path.Combine(_publishDir, "build.id")).Trim();
            var copy = Assert.Single(Directory.GetDirectories(temp, "raptorflow-*"));
            Assert.Equal("raptorflow-" + buildId, Path.GetFileName(copy));

            // Only the apphost is copied (it needs the execute bit); everything else is a link into the package.
            var apphost = new FileInfo(Path.Combine(copy, "RaptorFlow.Functions"));
            Assert.Null(apphost.LinkTarget);
            Assert.True(apphost.UnixFileMode.HasFlag(UnixFileMode.UserExecute));
            Assert.Equal(Path.Combine(_publishDir, "RaptorFlow.Functions.dll"), new FileInfo(Path.Combine(copy, "RaptorFlow.Functions.dll")).LinkTarget);
            Assert.Equal(Path.Combine(_publishDir, "libcoreclr.so"), new FileInfo(Path.Combine(copy, "libcoreclr.so")).LinkTarget);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Directory.Delete(temp, recursive: true);
        }
    }

    private static async Task<bool> AnswersAsync(HttpClient client, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await client.GetAsync(new Uri("/", UriKind.Relative));
                return true;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
        }

        return false;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
