using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>
/// The driver's own Azurite: the repository's pinned npm package, on free loopback ports, in memory,
/// so a run never touches a developer's data and every run starts empty. Given a folder it keeps its
/// data there instead, so it can be stopped and started again on the same data (a storage outage).
/// </summary>
public sealed class LocalAzurite : IAsyncDisposable
{
    /// <summary>Azurite's published development account key; not a secret.</summary>
    private const string DevelopmentAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>Node loads Azurite's few hundred modules slowly on a busy machine.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    private readonly ProcessStartInfo _start;
    private Process _process;

    private LocalAzurite(ProcessStartInfo start, Process process, int blob, int queue, int table)
    {
        _start = start;
        _process = process;
        ConnectionString =
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
            $"AccountKey={DevelopmentAccountKey};" +
            $"BlobEndpoint=http://127.0.0.1:{blob}/devstoreaccount1;" +
            $"QueueEndpoint=http://127.0.0.1:{queue}/devstoreaccount1;" +
            $"TableEndpoint=http://127.0.0.1:{table}/devstoreaccount1;";
        Ports = [blob, queue, table];
    }

    public string ConnectionString { get; }

    public int Pid => _process.Id;

    /// <summary>CPU time Azurite (one Node.js thread does the work) has used since it started.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    private int[] Ports { get; }

    /// <param name="heapMiB">Node's heap limit for Azurite, for data sets larger than its default (about 4 GiB here) holds: Azurite keeps every table in memory.</param>
    public static async Task<LocalAzurite> StartAsync(string repositoryRoot, string? dataFolder = null, int? heapMiB = null)
    {
        var script = Path.Combine(repositoryRoot, "node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(script))
        {
            // A fresh checkout: install the pinned npm packages the way the test script does.
            await BootstrapAsync(repositoryRoot);
        }

        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"Azurite is not installed at {script}; run 'bash scripts/bootstrap.sh' in the repository root.");
        }

        var (blob, queue, table) = (FreePort(), FreePort(), FreePort());
        // stdin redirected too: a child that touches the terminal of a background job is stopped.
        var start = new ProcessStartInfo("node") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[]
        {
            script, "--silent", "--skipApiVersionCheck", "--loose",
            "--blobHost", "127.0.0.1", "--blobPort", Text(blob),
            "--queueHost", "127.0.0.1", "--queuePort", Text(queue),
            "--tableHost", "127.0.0.1", "--tablePort", Text(table),
        })
        {
            start.ArgumentList.Add(arg);
        }

        if (heapMiB is { } heap)
        {
            start.ArgumentList.Insert(0, $"--max-old-space-size={Text(heap)}");
        }

        if (dataFolder is null)
        {
            start.ArgumentList.Add("--inMemoryPersistence");
        }
        else
        {
            start.ArgumentList.Add("--location");
            start.ArgumentList.Add(dataFolder);
        }

        var azurite = new LocalAzurite(start, Launch(start), blob, queue, table);
        try
        {
            await azurite.WaitUntilListeningAsync();
        }
        catch (InvalidOperationException)
        {
            await azurite.DisposeAsync();
            throw;
        }

        return azurite;
    }

    /// <summary>
    /// Stops Azurite (SIGTERM, so it saves its data; SIGKILL after 10 s): a storage outage. Its data
    /// survives only with a data folder. Killed outright, Azurite loses the writes it acknowledged
    /// since its last save, which no real storage account does.
    /// </summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        using (var term = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", Text(_process.Id) } }))
        {
            await (term?.WaitForExitAsync() ?? Task.CompletedTask);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>Starts Azurite again on the same ports and the same data folder.</summary>
    public async Task StartAgainAsync()
    {
        _process.Dispose();
        _process = Launch(_start);
        await WaitUntilListeningAsync();
    }

    private static Process Launch(ProcessStartInfo start)
    {
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start node.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task WaitUntilListeningAsync()
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < StartTimeout && !_process.HasExited)
        {
            if (await AllListeningAsync(Ports))
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException($"Azurite did not start listening within {StartTimeout.TotalSeconds} seconds.");
    }

    private static async Task BootstrapAsync(string repositoryRoot)
    {
        Console.WriteLine("  installing Azurite (scripts/bootstrap.sh)");
        var start = new ProcessStartInfo("bash") { WorkingDirectory = repositoryRoot };
        start.ArgumentList.Add(Path.Combine("scripts", "bootstrap.sh"));
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start bash.");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    /// <summary>
    /// The median of 21 queries of a partition that holds nothing: on real Table storage a key lookup,
    /// whatever the table holds; Azurite (LokiJS) runs the query's predicate over every row of the table,
    /// so this is what each partition query pays for the table's size alone.
    /// </summary>
    public static async Task<TimeSpan> EmptyPartitionQueryAsync(Azure.Data.Tables.TableClient table)
    {
        var times = new List<TimeSpan>();
        for (var i = 0; i < 21; i++)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            await foreach (var _ in table.QueryAsync<Azure.Data.Tables.TableEntity>(Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {"bench-none-" + i}")))
            {
            }

            times.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started));
        }

        return times.Order().ElementAt(times.Count / 2);
    }

    /// <summary>Whether the partition holds any row (one row asked for, its key only): what a drain waits on.</summary>
    public static async Task<bool> AnyInPartitionAsync(Azure.Data.Tables.TableClient table, string partition)
    {
        await foreach (var page in table.QueryAsync<Azure.Data.Tables.TableEntity>(
            Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {partition}"), maxPerPage: 1, select: ["RowKey"]).AsPages())
        {
            return page.Values.Count > 0 || page.ContinuationToken is not null;
        }

        return false;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Text(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static async Task<bool> AllListeningAsync(IEnumerable<int> ports)
    {
        foreach (var port in ports)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
            }
            catch (SocketException)
            {
                return false;
            }
        }

        return true;
    }
}
