using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace RaptorFlow.Tests.Fixtures;

/// <summary>
/// Captures every log line of an app with its scopes, rendered as text, so tests can assert what
/// is (and is never) logged. Add it with <c>builder.Logging.AddProvider(capture)</c>.
/// </summary>
public sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public ConcurrentQueue<CapturedLog> Lines { get; } = new();

    public string AllText => string.Join('\n', Lines.Select(l => l.ToString()));

    public ILogger CreateLogger(string categoryName) => new CaptureLogger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class CaptureLogger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scopes = new List<string>();
            owner._scopes.ForEachScope((scope, list) => list.Add(scope?.ToString() ?? string.Empty), scopes);
            var properties = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? string.Join(' ', pairs.Select(p => $"{p.Key}={p.Value}"))
                : string.Empty;
            owner.Lines.Enqueue(new CapturedLog(logLevel, category, formatter(state, exception), properties, scopes, exception?.ToString()));
        }
    }
}

public sealed record CapturedLog(LogLevel Level, string Category, string Message, string Properties, IReadOnlyList<string> Scopes, string? Exception)
{
    public override string ToString() => $"{Level} {Category}: {Message} | {Properties} | {string.Join(" / ", Scopes)} | {Exception}";
}
