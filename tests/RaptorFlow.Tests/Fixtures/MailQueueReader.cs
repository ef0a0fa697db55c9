using System.Text.Json;
using RaptorFlow.Functions.Mail;

namespace RaptorFlow.Tests.Fixtures;

/// <summary>
/// Reads what an app put on its mail queue (<c>Mail:Queue</c>): every message taken off so far, in
/// the order it was read. Give each test app its own queue (<see cref="WithOwnMailQueue"/>).
/// </summary>
public sealed class MailQueueReader(TestApp app)
{
    private readonly List<OutgoingMail> _read = [];

    public static Dictionary<string, string?> WithOwnMailQueue(Dictionary<string, string?> settings)
    {
        settings["Mail:Queue"] = $"{MailQueue.Default}-{Guid.NewGuid():N}";
        return settings;
    }

    /// <summary>Takes every message now on the queue, and answers all read so far.</summary>
    public async Task<IReadOnlyList<OutgoingMail>> ReadAsync()
    {
        var queue = app.Storage.Queue(app.Services.GetRequiredService<MailQueue>().Name);
        await queue.CreateIfNotExistsAsync();
        while (true)
        {
            var messages = (await queue.ReceiveMessagesAsync(32)).Value;
            if (messages.Length == 0)
            {
                return [.. _read];
            }

            foreach (var message in messages)
            {
                _read.Add(JsonSerializer.Deserialize<OutgoingMail>(message.Body.ToString(), MailOutbox.Json)!);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
        }
    }

    /// <summary>The org's mail of <paramref name="kind"/> read so far, after reading what is queued.</summary>
    public async Task<List<OutgoingMail>> OfAsync(string orgId, string kind) =>
        [.. (await ReadAsync()).Where(m => m.OrgId == orgId && m.Kind == kind)];
}
