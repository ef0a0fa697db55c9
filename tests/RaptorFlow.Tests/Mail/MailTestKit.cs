using RaptorFlow.Functions.Mail;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Mail;

/// <summary>Puts mail on the app's outbox as the senders of mail do, and waits for SendEmail to settle it.</summary>
public static class MailTestKit
{
    public static OutgoingMail Mail(
        string? orgId = null, string kind = "invitation", bool transactional = true, string? unsubscribeUrl = null, string? to = null, string? messageId = null) =>
        new(
            messageId ?? $"test:{Guid.NewGuid():N}",
            orgId ?? $"org_{Guid.NewGuid():N}",
            kind,
            [new MailRecipient(to ?? $"person-{Guid.NewGuid():N}@example.test", "Asha Rao")],
            "You are invited to Acme",
            "<p>Hello <b>Asha</b>, join Acme: <a href=\"https://console.test/accept\">accept</a></p>",
            "Hello Asha, join Acme: https://console.test/accept",
            transactional,
            unsubscribeUrl);

    public static Task EnqueueAsync(this TestApp app, OutgoingMail mail) =>
        app.Services.GetRequiredService<MailOutbox>().EnqueueAsync(mail, CancellationToken.None);

    public static Task<SentMailRow?> SentRowAsync(this TestApp app, OutgoingMail mail) =>
        app.Services.GetRequiredService<SentMail>().FindAsync(mail.OrgId, mail.MessageId, CancellationToken.None);

    /// <summary>Waits until the standalone poller has brought <paramref name="mail"/> to <paramref name="state"/>.</summary>
    public static async Task<SentMailRow> WaitForStateAsync(this TestApp app, OutgoingMail mail, string state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var row = await app.SentRowAsync(mail);
            if (row?.State == state)
            {
                return row;
            }

            Assert.True(DateTime.UtcNow < deadline, $"mail {mail.MessageId} is {row?.State ?? "unrecorded"}, not {state}");
            await Task.Delay(100);
        }
    }
}
