using System.Text.Json;

namespace RaptorFlow.Functions.Hosting;

/// <summary>What triggers a non-HTTP function.</summary>
public enum FunctionTriggerKind
{
    Queue,
    Timer,
}

/// <summary>
/// A queue- or timer-triggered function as the code declares it. The Functions metadata
/// (<c>function.json</c>), the host's <c>POST /{Name}</c> invocations and the standalone
/// triggers are all derived from these declarations.
/// </summary>
public sealed record FunctionDeclaration(
    string Name,
    FunctionTriggerKind Kind,
    Type HandlerType,
    string? QueueName = null,
    string? Schedule = null,
    bool RunOnStartup = false)
{
    /// <summary>The binding name the host uses for the trigger value in <c>Data</c>.</summary>
    public string BindingName => Kind == FunctionTriggerKind.Queue ? "message" : "timer";
}

/// <summary>A queue message handed to a queue function, whichever path delivered it.</summary>
public sealed record QueueTriggerMessage(
    string Text,
    long DequeueCount,
    string? MessageId,
    DateTimeOffset? InsertionTime,
    string InvocationId)
{
    public T ReadJson<T>(JsonSerializerOptions options) =>
        JsonSerializer.Deserialize<T>(Text, options) ?? throw new JsonException("The queue message is the JSON literal null.");

    /// <summary>The message as <typeparamref name="T"/>, or null when it is not that JSON (not written by us: retrying cannot help).</summary>
    public T? TryReadJson<T>(JsonSerializerOptions options)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(Text, options);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>A timer firing, whichever path delivered it.</summary>
public sealed record TimerTriggerInfo(bool IsPastDue, DateTimeOffset? LastRun, DateTimeOffset? NextRun, string InvocationId);
