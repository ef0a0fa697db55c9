using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace RaptorFlow.Tests.Fixtures;

/// <summary>
/// The one Azurite of a test run: started from the repository's pinned npm package on free
/// loopback ports with in-memory persistence, so tests never share state with a dev instance.
/// Stopped when the test process exits.
/// </summary>
public sealed class Azurite : IDisposable
{
    private static readonly Lazy<Task<Azurite>> SharedInstance = new(StartAsync);

    private readonly Process _process;

    private Azurite(Process process, int blobPort, int queuePort, int tablePort)
    {
        _process = process;
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
    }

    public int BlobPort { get; }
    public int QueuePort { get; }
    public int TablePort { get; }

    /// <summary>Azurite's published development account key; not a secret.</summary>
    public const string DevelopmentAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public string ConnectionString =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
        $"AccountKey={DevelopmentAccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/devstoreaccount1;" +
        $"QueueEndpoint=http://127.0.0.1:{QueuePort}/devstoreaccount1;" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/devstoreaccount1;";

    public static Task<Azurite> Shared => SharedInstance.Value;

    /// <summary>A private, empty Azurite (nothing provisioned), for tests of brand-new storage; dispose it.</summary>
    public static Task<Azurite> StartFreshAsync() => StartAsync();

    public void Dispose() => Stop();

    private static async Task<Azurite> StartAsync()
    {
        var script = RepositoryRoot.Combine("node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"Azurite is not installed at {script}; run 'npm ci' in the repository root (the test script does).");
        }

        for (var attempt = 0; ; attempt++)
        {
            var (blob, queue, table) = (FreePort(), FreePort(), FreePort());
            // A watchdog shell owns Azurite and stops it when the test process is gone, even if
            // that process was killed and never ran its exit handlers.
            var azuriteCommand = string.Join(' ', new[]
            {
                "node", $"'{script}'", "--silent", "--inMemoryPersistence", "--skipApiVersionCheck", "--loose",
                "--blobHost", "127.0.0.1", "--blobPort", blob.ToString(CultureInfo.InvariantCulture),
                "--queueHost", "127.0.0.1", "--queuePort", queue.ToString(CultureInfo.InvariantCulture),
                "--tableHost", "127.0.0.1", "--tablePort", table.ToString(CultureInfo.InvariantCulture),
            });
            var start = new ProcessStartInfo("/bin/sh")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(
                $"{azuriteCommand} & child=$!; trap 'kill $child 2>/dev/null' EXIT INT TERM; " +
                $"while kill -0 {Environment.ProcessId} 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 1; done");

            var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start node.");
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var azurite = new Azurite(process, blob, queue, table);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => azurite.Stop();

            if (await azurite.WaitUntilListeningAsync(TimeSpan.FromSeconds(30)))
            {
                return azurite;
            }

            azurite.Stop();
            if (attempt >= 2)
            {
                throw new InvalidOperationException("Azurite did not start listening within 30 seconds.");
            }
        }
    }

    private async Task<bool> WaitUntilListeningAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout && !_process.HasExited)
        {
            if (await IsListeningAsync(BlobPort) && await IsListeningAsync(QueuePort) && await IsListeningAsync(TablePort))
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }

    private static async Task<bool> IsListeningAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private void Stop()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
