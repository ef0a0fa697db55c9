using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>Throughput and latency of one load run.</summary>
public sealed record LoadResult(string Name, int Concurrency, double Seconds, long Requests, long Errors, double RequestsPerSecond, Latency Latency)
{
    /// <summary>What the first failed operation of the run said (status and problem code, or the exception).</summary>
    public string? FirstError { get; init; }

    /// <summary>Failed operations during the unrecorded warm-up; they void the run just the same.</summary>
    public long WarmupErrors { get; init; }

    /// <summary>Operations made during the unrecorded warm-up.</summary>
    public long WarmupRequests { get; init; }

    /// <summary>
    /// A run with any failed request measured something else (a rate limiter, an error path), not
    /// the operation: its figure must not be reported.
    /// </summary>
    public LoadResult RequireNoErrors()
    {
        if (Errors + WarmupErrors > 0)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"{Name}: {Errors} of {Requests} measured requests and {WarmupErrors} warm-up requests failed (first: {FirstError ?? "unknown"}); the run does not count."));
        }

        return this;
    }

    public JsonObject ToJson() => new()
    {
        ["concurrency"] = Concurrency,
        ["seconds"] = Math.Round(Seconds, 2),
        ["requests"] = Requests,
        ["errors"] = Errors,
        ["requestsPerSecond"] = Math.Round(RequestsPerSecond, 1),
        ["latencyMs"] = Latency.ToJson(),
    };

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Name,-34} {RequestsPerSecond,9:F0} req/s  {Latency}  errors {Errors}  (c={Concurrency}, n={Requests})");
}

/// <summary>Latency percentiles in milliseconds.</summary>
public sealed record Latency(double P50, double P90, double P99, double Max)
{
    public static Latency Of(List<double> milliseconds)
    {
        if (milliseconds.Count == 0)
        {
            return new Latency(double.NaN, double.NaN, double.NaN, double.NaN);
        }

        milliseconds.Sort();
        double At(double q) => milliseconds[Math.Min(milliseconds.Count - 1, (int)Math.Ceiling(q * milliseconds.Count) - 1)];
        return new Latency(At(0.50), At(0.90), At(0.99), milliseconds[^1]);
    }

    public JsonObject ToJson() => new()
    {
        ["p50"] = Math.Round(P50, 2),
        ["p90"] = Math.Round(P90, 2),
        ["p99"] = Math.Round(P99, 2),
        ["max"] = Math.Round(Max, 2),
    };

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"p50 {P50,7:F2} ms  p99 {P99,7:F2} ms  max {Max,7:F1} ms");
}

/// <summary>
/// N clients each issue one operation after another for a fixed time (closed loop), after an
/// unrecorded warm-up; a run also stops at a request cap, so every run is bounded in time and count.
/// </summary>
public static class ClosedLoop
{
    /// <summary>Slices of a paired run; each side gets the run's duration in this many alternating slices.</summary>
    public const int PairSlices = 5;

    public static async Task<LoadResult> RunAsync(string name, LoadOptions options, Func<CancellationToken, Task<bool>> operation, int? concurrency = null)
    {
        var tally = new Tally(concurrency ?? options.Concurrency, options.MaxRequests);
        await tally.RunAsync(operation, options.Warmup, options.Duration);
        return tally.Print(name);
    }

    /// <summary>
    /// An operation and its baseline at the same concurrency, in alternating slices (A, B, A, B, …)
    /// after a warm-up of each, so that whatever else the machine does in the meantime weighs on
    /// both alike and their ratio stays meaningful on a shared machine.
    /// </summary>
    public static async Task<(LoadResult Measured, LoadResult Baseline)> RunPairAsync(
        string name, Func<CancellationToken, Task<bool>> operation, string baselineName, Func<CancellationToken, Task<bool>> baseline, LoadOptions options)
    {
        var measured = new Tally(options.Concurrency, options.MaxRequests);
        var reference = new Tally(options.Concurrency, options.MaxRequests);
        await measured.RunAsync(operation, options.Warmup, TimeSpan.Zero);
        await reference.RunAsync(baseline, options.Warmup, TimeSpan.Zero);
        var slice = options.Duration / PairSlices;
        for (var i = 0; i < PairSlices; i++)
        {
            await measured.RunAsync(operation, TimeSpan.Zero, slice);
            await reference.RunAsync(baseline, TimeSpan.Zero, slice);
        }

        return (measured.Print(name), reference.Print(baselineName));
    }

    /// <summary>What the runs of one operation add up to.</summary>
    private sealed class Tally(int clients, long maxRequests)
    {
        private readonly List<double> _latencies = new(16_384);
        private long _errors;
        private long _warmupErrors;
        private long _warmupRequests;
        private long _issued;
        private double _seconds;
        private string? _firstError;

        public async Task RunAsync(Func<CancellationToken, Task<bool>> operation, TimeSpan warmup, TimeSpan duration)
        {
            var latencies = new List<double>[clients];
            var errors = new long[clients];
            var recordFrom = Stopwatch.GetTimestamp() + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
            using var stop = new CancellationTokenSource(warmup + duration);
            long measuredEnd = 0;

            async Task Client(int index)
            {
                var mine = latencies[index] = new List<double>(4096);
                while (!stop.IsCancellationRequested && Interlocked.Increment(ref _issued) <= maxRequests)
                {
                    var started = Stopwatch.GetTimestamp();
                    bool ok;
                    try
                    {
                        ok = await operation(stop.Token);
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested)
                    {
                        break;
                    }
                    catch (Exception ex) when (ex is HttpRequestException or Azure.RequestFailedException or IOException or TaskCanceledException)
                    {
                        ok = false;
                        Interlocked.CompareExchange(ref _firstError, ex.Message, null);
                    }

                    var ended = Stopwatch.GetTimestamp();
                    if (!ok)
                    {
                        Interlocked.CompareExchange(ref _firstError, "the operation reported a failure", null);
                    }

                    if (started < recordFrom)
                    {
                        Interlocked.Increment(ref _warmupRequests);
                        if (!ok)
                        {
                            Interlocked.Increment(ref _warmupErrors);
                        }

                        continue;
                    }

                    InterlockedMax(ref measuredEnd, ended);
                    if (ok)
                    {
                        mine.Add(Stopwatch.GetElapsedTime(started, ended).TotalMilliseconds);
                    }
                    else
                    {
                        errors[index]++;
                    }
                }
            }

            await Task.WhenAll(Enumerable.Range(0, clients).Select(i => Task.Run(() => Client(i))));
            foreach (var list in latencies)
            {
                _latencies.AddRange(list);
            }

            _errors += errors.Sum();
            _seconds += measuredEnd > recordFrom ? Stopwatch.GetElapsedTime(recordFrom, measuredEnd).TotalSeconds : 0;
        }

        public LoadResult Print(string name)
        {
            var ok = _latencies.Count;
            var result = new LoadResult(name, clients, _seconds, ok + _errors, _errors, _seconds > 0 ? ok / _seconds : 0, Latency.Of(_latencies))
            {
                FirstError = _firstError,
                WarmupErrors = _warmupErrors,
                WarmupRequests = _warmupRequests,
            };
            Console.WriteLine("  " + result);
            return result;
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
