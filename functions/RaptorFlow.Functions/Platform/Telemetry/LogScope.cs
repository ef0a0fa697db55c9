using System.Collections;

namespace RaptorFlow.Functions.Platform.Telemetry;

/// <summary>
/// Named values attached to every log line of a request or invocation; structured for JSON logs,
/// readable (<c>RequestId:… InvocationId:…</c>) where a scope is printed as text.
/// </summary>
public sealed class LogScope(params (string Name, object Value)[] values) : IReadOnlyList<KeyValuePair<string, object>>
{
    private readonly KeyValuePair<string, object>[] _values = values.Select(v => KeyValuePair.Create(v.Name, v.Value)).ToArray();

    public int Count => _values.Length;

    public KeyValuePair<string, object> this[int index] => _values[index];

    public IEnumerator<KeyValuePair<string, object>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object>>)_values).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => string.Join(' ', _values.Select(v => $"{v.Key}:{v.Value}"));
}
