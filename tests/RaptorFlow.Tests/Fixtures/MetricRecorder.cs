using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using RaptorFlow.Functions.Platform.Telemetry;

namespace RaptorFlow.Tests.Fixtures;

/// <summary>
/// An in-process <see cref="MeterListener"/> on the app's meter, from its creation on. The meter is
/// the process's, and test classes run in parallel, so sums are at least what one test caused:
/// assert with <c>&gt;=</c>, or on tags only the test uses.
/// </summary>
public sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<Recorded> _recorded = new();

    public MetricRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == Telemetry.Name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>The sum of <paramref name="instrument"/>'s measurements carrying every one of <paramref name="tags"/>.</summary>
    public double Sum(string instrument, params (string Key, string Value)[] tags) => Values(instrument, tags).Sum();

    public IReadOnlyList<double> Values(string instrument, params (string Key, string Value)[] tags) =>
        [.. _recorded.Where(r => r.Instrument == instrument && tags.All(t => r.Tags.TryGetValue(t.Key, out var v) && v == t.Value)).Select(r => r.Value)];

    /// <summary>Reads the observable gauges now; returns their measurements as of this read only.</summary>
    public IReadOnlyList<Recorded> Observe(string instrument)
    {
        var before = _recorded.Count;
        _listener.RecordObservableInstruments();
        return [.. _recorded.Skip(before).Where(r => r.Instrument == instrument)];
    }

    public void Dispose() => _listener.Dispose();

    private void Add<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        where T : struct
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            map[tag.Key] = tag.Value?.ToString() ?? "";
        }

        _recorded.Enqueue(new Recorded(instrument.Name, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture), map));
    }

    public sealed record Recorded(string Instrument, double Value, IReadOnlyDictionary<string, string> Tags);
}
