using System.Text;
using System.Text.Json;
using RaptorFlow.Functions.Hosting;

namespace RaptorFlow.Tests.Fixtures;

/// <summary>
/// Trigger invocations as the Functions host sends them to a custom handler: the envelope
/// <c>{"Data":…,"Metadata":…}</c> POSTed to <c>/{FunctionName}</c> with the invocation id header.
/// </summary>
public static class HostInvocations
{
    /// <summary>The header the host sends custom handlers (azure-functions-host HttpWorkerConstants.InvocationIdHeaderName).</summary>
    public const string InvocationIdHeader = "X-Azure-Functions-InvocationId";

    /// <summary>The older header, read only when the host's is absent.</summary>
    public const string OlderInvocationIdHeader = "x-ms-invocation-id";

    /// <summary>A queue trigger's envelope; <paramref name="message"/> is the binding value as the host passes it.</summary>
    public static string QueueEnvelope(object message, object? metadata = null) =>
        JsonSerializer.Serialize(new { Data = new { message }, Metadata = metadata ?? new { DequeueCount = 1 } });

    /// <summary>
    /// A queue trigger's envelope for a message whose text is <paramref name="text"/>: the host passes
    /// text that is itself JSON encoded once more, as a JSON string.
    /// </summary>
    public static string QueueTextEnvelope(string text, int dequeueCount = 1, string? messageId = null) =>
        QueueEnvelope(JsonSerializer.Serialize(text), new { DequeueCount = dequeueCount, Id = messageId ?? Guid.NewGuid().ToString(), PopReceipt = "AgAAAAMAAAAAAAAA" });

    /// <summary>A timer trigger's envelope; <paramref name="metadata"/> defaults to none, as the host may send.</summary>
    public static string TimerEnvelope(bool isPastDue = false, object? scheduleStatus = null, object? metadata = null) =>
        JsonSerializer.Serialize(new
        {
            Data = new { timer = new { Schedule = new { AdjustForDST = true }, ScheduleStatus = scheduleStatus, IsPastDue = isPastDue } },
            Metadata = metadata ?? new { },
        });

    /// <summary>The host's POST of <paramref name="envelope"/> to <paramref name="function"/>, with a new invocation id unless given.</summary>
    public static HttpRequestMessage Request(string function, string envelope, string? invocationId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/" + function, UriKind.Relative))
        {
            Content = new StringContent(envelope, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(InvocationIdHeader, invocationId ?? Guid.NewGuid().ToString());
        return request;
    }

    /// <summary>Invokes <paramref name="function"/> as the host does; the caller owns the response.</summary>
    public static async Task<HttpResponseMessage> InvokeAsync(this HttpClient client, string function, string envelope, string? invocationId = null)
    {
        using var request = Request(function, envelope, invocationId);
        return await client.SendAsync(request);
    }

    /// <inheritdoc cref="InvokeAsync(HttpClient, string, string, string?)"/>
    public static Task<HttpResponseMessage> InvokeAsync(this TestApp app, string function, string envelope, string? invocationId = null) =>
        app.Client.InvokeAsync(function, envelope, invocationId);

    /// <summary>
    /// Delivers every message on <paramref name="function"/>'s queue as the host does (the envelope
    /// POST, then a delete on success) until the queue is empty; returns the texts delivered.
    /// </summary>
    public static async Task<List<string>> DrainQueueAsync(this TestApp app, string function)
    {
        var declaration = app.Services.GetServices<FunctionDeclaration>().Single(d => d.Name == function);
        var queue = app.Storage.Queue(declaration.QueueName!);
        await queue.CreateIfNotExistsAsync();
        var delivered = new List<string>();
        while ((await queue.ReceiveMessagesAsync(32)).Value is { Length: > 0 } messages)
        {
            foreach (var message in messages)
            {
                var text = message.Body.ToString();
                using var response = await app.InvokeAsync(function, QueueTextEnvelope(text, (int)message.DequeueCount, message.MessageId));
                Assert.True(response.IsSuccessStatusCode, $"{function}: {await response.Content.ReadAsStringAsync()}");
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                delivered.Add(text);
            }
        }

        return delivered;
    }
}
