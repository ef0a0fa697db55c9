using System.Text.Json;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Mail;

/// <summary>The queue mail waits on (<c>Mail:Queue</c>, default <c>mail-outbox</c>).</summary>
public sealed record MailQueue(string Name)
{
    public const string Default = "mail-outbox";
}

/// <summary>Puts rendered mail on the mail queue; <c>SendEmail</c> sends it.</summary>
public sealed class MailOutbox(StorageAccount storage, MailQueue queue)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { TypeInfoResolver = ApiJsonContext.WithReflectionFallback };

    public async Task EnqueueAsync(OutgoingMail mail, CancellationToken cancellationToken) =>
        await storage.Queue(queue.Name).SendMessageAsync(JsonSerializer.Serialize(mail, Json), cancellationToken);
}
