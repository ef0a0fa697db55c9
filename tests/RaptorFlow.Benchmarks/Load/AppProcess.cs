using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>A published app (RaptorFlow or the empty baseline) running as its own process on a loopback port.</summary>
public sealed class AppProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Queue<string> _errors = new();

    private AppProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        BaseAddress = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        // LOAD_APP_LOG names a file that receives everything the app prints, at Information level.
        var log = Environment.GetEnvironmentVariable("LOAD_APP_LOG") is { Length: > 0 } path
            ? TextWriter.Synchronized(new StreamWriter(path, append: true) { AutoFlush = true })
            : null;
        process.OutputDataReceived += (_, e) => log?.WriteLine(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            log?.WriteLine(e.Data);
            lock (_errors)
            {
                if (e.Data is not null)
                {
                    _errors.Enqueue(e.Data);
                    while (_errors.Count > 40)
                    {
                        _errors.Dequeue();
                    }
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Port { get; }
    public Uri BaseAddress { get; }
    public int Pid => _process.Id;
    public double? WorkingSetMiB => Machine.WorkingSetMiB(_process.Id);
    public double? PeakWorkingSetMiB => Machine.PeakWorkingSetMiB(_process.Id);

    /// <summary>Starts the executable as the Functions host would (custom-handler port) or standalone (<c>Hosting:Url</c>).</summary>
    public static AppProcess Start(string folder, string executable, bool underFunctionsHost, IReadOnlyDictionary<string, string> settings)
    {
        var port = LocalAzurite.FreePort();
        var start = new ProcessStartInfo(Path.Combine(folder, executable))
        {
            WorkingDirectory = folder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var portText = port.ToString(CultureInfo.InvariantCulture);
        if (underFunctionsHost)
        {
            start.Environment["FUNCTIONS_CUSTOMHANDLER_PORT"] = portText;
        }
        else
        {
            start.Environment["Hosting__Url"] = $"http://127.0.0.1:{portText}";
        }

        start.Environment["Logging__LogLevel__Default"] = Environment.GetEnvironmentVariable("LOAD_APP_LOG") is { Length: > 0 } ? "Information" : "Warning";
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        return new AppProcess(Process.Start(start) ?? throw new InvalidOperationException($"Could not start {executable}."), port);
    }

    /// <summary>Polls <paramref name="path"/> until it answers 200; the elapsed time since the start is the cold start.</summary>
    public async Task WaitUntilOkAsync(HttpClient client, string path, TimeSpan timeout)
    {
        var uri = new Uri(BaseAddress, path);
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The app exited with {_process.ExitCode}:\n{RecentErrors()}");
            }

            try
            {
                using var response = await client.GetAsync(uri);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(1);
        }

        throw new TimeoutException($"{uri} did not answer 200 within {timeout}:\n{RecentErrors()}");
    }

    public string RecentErrors()
    {
        lock (_errors)
        {
            return string.Join('\n', _errors);
        }
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
}
