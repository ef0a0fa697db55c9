using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Platform.Http;
using RaptorFlow.Functions.Platform.Problems;

namespace RaptorFlow.Functions.Hosting;

/// <summary>Marks the Functions host's invocation endpoints: internal, reached only over loopback.</summary>
public sealed record HostInvocationEndpoint(string FunctionName);

/// <summary>
/// The custom-handler contract for non-HTTP triggers: the host sends
/// <c>POST /{FunctionName}</c> with <c>{"Data": {...}, "Metadata": {...}}</c> and treats any
/// non-2xx answer as a failed invocation (it retries the message, then poisons it).
/// </summary>
public static class FunctionInvocationApi
{
    /// <summary>A queue function's envelope can carry a large message; Storage caps messages at 64 KiB, base64 grows them by a third.</summary>
    public const long EnvelopeLimit = 256 * 1024;

    public static IEndpointRouteBuilder MapFunctionInvocations(this IEndpointRouteBuilder routes)
    {
        foreach (var function in routes.ServiceProvider.GetServices<FunctionDeclaration>())
        {
            routes.MapPost("/" + function.Name, (HttpContext context, FunctionInvoker invoker, CancellationToken cancellationToken) =>
                    InvokeAsync(function, context, invoker, cancellationToken))
                .WithName("Invoke" + function.Name)
                .WithMetadata(new HostInvocationEndpoint(function.Name))
                .WithRequestBodyLimit(EnvelopeLimit)
                .AllowAnonymous()
                .ExcludeFromDescription();
        }

        return routes;
    }

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> InvokeAsync(
        FunctionDeclaration function, HttpContext context, FunctionInvoker invoker, CancellationToken cancellationToken)
    {
        if (context.Connection.RemoteIpAddress is { } remote && !IPAddress.IsLoopback(remote))
        {
            return ApiProblem.NotFound("route.not_found", "No resource matches this path.");
        }

        var (value, metadata, invalid) = await ReadEnvelopeAsync(function, context.Request, cancellationToken);
        if (invalid is not null)
        {
            return invalid;
        }

        var invocationId = Platform.Http.RequestCorrelation.InvocationId(context.Request);
        if (string.IsNullOrEmpty(invocationId))
        {
            invocationId = context.TraceIdentifier;
        }

        try
        {
            await RunAsync(function, value, metadata, invocationId, invoker, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The failure is logged by the invoker; the host sees a non-2xx and retries.
            return ApiProblem.Create(StatusCodes.Status500InternalServerError, "function.failed",
                "The function invocation failed.", $"{function.Name} failed; the trigger will retry it.");
        }

        return TypedResults.Content(SuccessBody, "application/json");
    }

    /// <summary>The trigger value under the binding's name and the trigger metadata, or why the envelope is not one.</summary>
    private static async Task<(JsonElement Value, JsonElement Metadata, ProblemHttpResult? Invalid)> ReadEnvelopeAsync(
        FunctionDeclaration function, HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            using var envelope = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
            var root = envelope.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !TryGet(root, "Data", out var data) || data.ValueKind != JsonValueKind.Object
                || !TryGet(data, function.BindingName, out var value))
            {
                return (default, default, InvalidEnvelope($"Expected {{\"Data\": {{\"{function.BindingName}\": ...}}, \"Metadata\": {{...}}}}."));
            }

            var metadata = TryGet(root, "Metadata", out var m) && m.ValueKind == JsonValueKind.Object ? m.Clone() : default;
            return (value.Clone(), metadata, null);
        }
        catch (JsonException)
        {
            return (default, default, InvalidEnvelope("The invocation body is not JSON."));
        }
    }

    private static async Task RunAsync(
        FunctionDeclaration function, JsonElement value, JsonElement metadata, string invocationId, FunctionInvoker invoker, CancellationToken cancellationToken)
    {
        if (function.Kind == FunctionTriggerKind.Queue)
        {
            var message = new QueueTriggerMessage(
                QueueMessageText(value),
                ReadLong(metadata, "DequeueCount") ?? 1,
                ReadString(metadata, "Id"),
                ReadTime(metadata, "InsertionTime"),
                invocationId);
            await invoker.InvokeQueueAsync(function, message, cancellationToken);
            return;
        }

        var status = TryGet(value, "ScheduleStatus", out var s) && s.ValueKind == JsonValueKind.Object ? s : default;
        var timer = new TimerTriggerInfo(
            TryGet(value, "IsPastDue", out var pastDue) && pastDue.ValueKind == JsonValueKind.True,
            ReadTime(status, "Last"),
            ReadTime(status, "Next"),
            invocationId);
        await invoker.InvokeTimerAsync(function, timer, cancellationToken);
    }

    /// <summary>What the host expects back from a successful invocation.</summary>
    public const string SuccessBody = "{\"Outputs\":{},\"Logs\":[],\"ReturnValue\":null}";

    /// <summary>
    /// The host hands a queue message over as a JSON string (JSON text arrives encoded a second
    /// time) or, for some payloads, as the parsed JSON value itself; both give the message text.
    /// </summary>
    public static string QueueMessageText(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return value.GetRawText();
        }

        var text = value.GetString() ?? string.Empty;
        if (text.Length >= 2 && text[0] == '"' && text[^1] == '"')
        {
            try
            {
                return JsonSerializer.Deserialize<string>(text) ?? text;
            }
            catch (JsonException)
            {
                return text;
            }
        }

        return text;
    }

    private static ProblemHttpResult InvalidEnvelope(string detail) =>
        ApiProblem.Create(StatusCodes.Status400BadRequest, "function.invalid_envelope", "The invocation envelope is not valid.", detail);

    private static bool TryGet(JsonElement element, string name, out JsonElement value)
    {
        value = default;
        if (element.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        }

        return false;
    }

    private static string? ReadString(JsonElement element, string name) =>
        TryGet(element, name, out var v) ? (v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText()) : null;

    private static long? ReadLong(JsonElement element, string name)
    {
        if (!TryGet(element, name, out var v))
        {
            return null;
        }

        return v.ValueKind switch
        {
            JsonValueKind.Number when v.TryGetInt64(out var n) => n,
            JsonValueKind.String when long.TryParse(v.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) => n,
            _ => null,
        };
    }

    private static DateTimeOffset? ReadTime(JsonElement element, string name) =>
        ReadString(element, name) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at.ToUniversalTime()
            : null;
}
