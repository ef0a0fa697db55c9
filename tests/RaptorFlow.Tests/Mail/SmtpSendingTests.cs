using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using MimeKit;
using RaptorFlow.Functions.Mail;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Mail;

public sealed class SmtpSendingTests
{
    [Fact]
    public async Task Mail_on_the_outbox_arrives_over_smtp_with_a_text_and_an_html_part()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var app = await TestApp.StartAsync(smtp.Settings(), hostDrivesTriggers: true);
        var mail = MailTestKit.Mail(to: "asha@example.test");

        await app.EnqueueAsync(mail);
        await app.DrainQueueAsync(SendEmail.FunctionName);

        var received = Assert.Single(smtp.Received);
        Assert.Equal("You are invited to Acme", received.Subject);
        Assert.Equal("asha@example.test", Assert.Single(received.To.Mailboxes).Address);
        Assert.Equal("Asha Rao", received.To.Mailboxes.Single().Name);
        Assert.Equal("noreply@raptorflow.test", Assert.Single(received.From.Mailboxes).Address);
        var alternative = Assert.IsType<MultipartAlternative>(received.Body);
        Assert.Equal(2, alternative.Count);
        Assert.Equal(mail.Text, received.TextBody?.TrimEnd());
        Assert.Equal(mail.Html, received.HtmlBody?.TrimEnd());
        Assert.Equal(MailIdentity.MessageIdHeader(mail.MessageId, "noreply@raptorflow.test"), received.MessageId);
        Assert.Null(received.Headers["List-Unsubscribe"]);
        Assert.Null(received.Headers["List-Unsubscribe-Post"]);

        var row = await app.SentRowAsync(mail);
        Assert.Equal(SentMailState.Sent, row?.State);
        Assert.Equal("invitation", row?.Kind);
    }

    [Fact]
    public async Task Mail_with_an_unsubscribe_url_carries_one_click_list_unsubscribe_headers()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var app = await TestApp.StartAsync(smtp.Settings(), hostDrivesTriggers: true);
        var mail = MailTestKit.Mail(kind: "key-expiring", transactional: false, unsubscribeUrl: "https://api.test/api/v1/mail/unsubscribe?token=abc");

        await app.EnqueueAsync(mail);
        await app.DrainQueueAsync(SendEmail.FunctionName);

        var received = Assert.Single(smtp.Received);
        Assert.Equal("<https://api.test/api/v1/mail/unsubscribe?token=abc>", received.Headers["List-Unsubscribe"]);
        Assert.Equal("List-Unsubscribe=One-Click", received.Headers["List-Unsubscribe-Post"]);
    }

    [Fact]
    public async Task A_redelivered_message_is_not_sent_twice()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var app = await TestApp.StartAsync(smtp.Settings(), hostDrivesTriggers: true);
        var mail = MailTestKit.Mail();

        // Enqueued twice (a sender retried) and delivered twice more by the queue after that.
        await app.EnqueueAsync(mail);
        await app.EnqueueAsync(mail);
        Assert.Equal(2, (await app.DrainQueueAsync(SendEmail.FunctionName)).Count);
        await app.EnqueueAsync(mail);
        await app.DrainQueueAsync(SendEmail.FunctionName);

        Assert.Single(smtp.Received);
        var row = await app.SentRowAsync(mail);
        Assert.Equal(SentMailState.Sent, row?.State);
        Assert.Equal(1, row?.Attempts);
    }

    [Fact]
    public async Task A_second_copy_delivered_while_the_first_is_still_sending_sends_nothing_and_the_mail_arrives_once()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var app = await TestApp.StartAsync(smtp.Settings(), hostDrivesTriggers: true);
        var mail = MailTestKit.Mail();
        var text = JsonSerializer.Serialize(mail, MailOutbox.Json);

        // The mail was enqueued twice; the two queue messages reach two instances at once. The first is in the SMTP DATA step.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        smtp.HoldNext(release);
        var first = app.InvokeAsync(SendEmail.FunctionName, HostInvocations.QueueTextEnvelope(text, 1, "queue-message-1"));
        await smtp.Holding.Task.WaitAsync(TimeSpan.FromSeconds(30));
        using (var second = await app.InvokeAsync(SendEmail.FunctionName, HostInvocations.QueueTextEnvelope(text, 1, "queue-message-2")))
        {
            Assert.True(second.IsSuccessStatusCode, await second.Content.ReadAsStringAsync());
        }

        Assert.Empty(smtp.Received);
        release.SetResult();
        using (var firstDone = await first)
        {
            Assert.True(firstDone.IsSuccessStatusCode, await firstDone.Content.ReadAsStringAsync());
        }

        Assert.Single(smtp.Received);
        var row = await app.SentRowAsync(mail);
        Assert.Equal(SentMailState.Sent, row?.State);
        Assert.Equal(1, row?.Attempts);
    }

    [Fact]
    public async Task A_claim_whose_delivery_never_finished_is_taken_over_by_another_copy_once_its_lease_is_over()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var app = await TestApp.StartAsync(smtp.Settings(), clock: clock, hostDrivesTriggers: true);
        var mail = MailTestKit.Mail();
        var text = JsonSerializer.Serialize(mail, MailOutbox.Json);
        // A delivery claimed the mail and its instance died before sending; its message is gone (say, deleted by hand).
        await app.Services.GetRequiredService<SentMail>().ClaimAsync(mail, "Smtp", 100, "queue-message-lost", CancellationToken.None);

        using (var early = await app.InvokeAsync(SendEmail.FunctionName, HostInvocations.QueueTextEnvelope(text, 1, "queue-message-2")))
        {
            Assert.True(early.IsSuccessStatusCode);
        }

        Assert.Empty(smtp.Received);
        clock.Advance(SentMail.SendLease + TimeSpan.FromSeconds(1));
        using (var late = await app.InvokeAsync(SendEmail.FunctionName, HostInvocations.QueueTextEnvelope(text, 1, "queue-message-3")))
        {
            Assert.True(late.IsSuccessStatusCode, await late.Content.ReadAsStringAsync());
        }

        Assert.Single(smtp.Received);
        var row = await app.SentRowAsync(mail);
        Assert.Equal(SentMailState.Sent, row?.State);
        Assert.Equal(2, row?.Attempts);
    }

    [Fact]
    public async Task Mail_over_the_orgs_daily_cap_is_not_sent_and_the_next_day_sends_again()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 5, 10, 0, 0, TimeSpan.Zero));
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var app = await TestApp.StartAsync(smtp.Settings(new Dictionary<string, string?> { ["Mail:DailyCapPerOrg"] = "2" }), clock: clock, hostDrivesTriggers: true);
        var orgId = $"org_{Guid.NewGuid():N}";
        var otherOrg = MailTestKit.Mail();
        var first = MailTestKit.Mail(orgId);
        var second = MailTestKit.Mail(orgId, kind: "invoice-issued");
        var third = MailTestKit.Mail(orgId, kind: "invoice-paid");

        foreach (var mail in new[] { first, second, third, otherOrg })
        {
            await app.EnqueueAsync(mail);
            await app.DrainQueueAsync(SendEmail.FunctionName);
        }

        Assert.Equal(3, smtp.Received.Count);
        Assert.Equal(SentMailState.Capped, (await app.SentRowAsync(third))?.State);
        Assert.Equal(SentMailState.Sent, (await app.SentRowAsync(otherOrg))?.State);
        // A capped message stays capped when delivered again.
        await app.EnqueueAsync(third);
        await app.DrainQueueAsync(SendEmail.FunctionName);
        Assert.Equal(3, smtp.Received.Count);

        clock.Advance(TimeSpan.FromDays(1));
        var tomorrow = MailTestKit.Mail(orgId);
        await app.EnqueueAsync(tomorrow);
        await app.DrainQueueAsync(SendEmail.FunctionName);
        Assert.Equal(4, smtp.Received.Count);
        Assert.Equal(SentMailState.Sent, (await app.SentRowAsync(tomorrow))?.State);
    }

    [Fact]
    public async Task A_message_the_server_refuses_at_first_is_retried_and_arrives_once()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        smtp.RefuseFirst = 2;
        await using var app = await TestApp.StartAsync(smtp.Settings(new Dictionary<string, string?> { ["Hosting:Standalone:VisibilityTimeout"] = "00:00:01" }));
        var mail = MailTestKit.Mail();

        await app.EnqueueAsync(mail);

        var row = await app.WaitForStateAsync(mail, SentMailState.Sent);
        Assert.Equal(3, row.Attempts);
        Assert.Equal(2, smtp.Refused);
        Assert.Single(smtp.Received);
    }

    [Fact]
    public async Task A_message_refused_five_times_goes_to_the_poison_queue_marked_failed()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        smtp.RefuseFirst = int.MaxValue;
        var settings = smtp.Settings(new Dictionary<string, string?> { ["Hosting:Standalone:VisibilityTimeout"] = "00:00:01" });
        await using var app = await TestApp.StartAsync(settings);
        var mail = MailTestKit.Mail();

        await app.EnqueueAsync(mail);

        var row = await app.WaitForStateAsync(mail, SentMailState.Failed);
        Assert.Equal(5, row.Attempts);
        var poison = app.Storage.Queue(settings["Mail:Queue"] + "-poison");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await poison.PeekMessagesAsync(1)).Value.Length == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the message never reached the poison queue");
            await Task.Delay(100);
        }

        // The one-second visibility can lapse while a slow attempt still talks to the server, so a busy
        // machine may see more attempts than dequeues; never fewer, and none delivered.
        Assert.True(smtp.Refused >= 5, $"{smtp.Refused} refusals");
        Assert.Empty(smtp.Received);
    }

    [Fact]
    public async Task Logs_name_message_ids_and_kinds_but_never_an_address_a_subject_or_a_body()
    {
        var capture = new LogCapture();
        await using var smtp = await SmtpTestServer.StartAsync();
        smtp.RefuseFirst = 1;
        await using var app = await TestApp.StartAsync(
            smtp.Settings(new Dictionary<string, string?>
            {
                ["Hosting:Standalone:VisibilityTimeout"] = "00:00:01",
                ["Logging:LogLevel:Default"] = "Debug",
                ["Mail:DailyCapPerOrg"] = "1",
            }),
            customize: builder => builder.Logging.AddProvider(capture));
        var orgId = $"org_{Guid.NewGuid():N}";
        var sent = MailTestKit.Mail(orgId, to: "secret.person@example.test", unsubscribeUrl: "https://api.test/unsub?token=tok123");
        var capped = MailTestKit.Mail(orgId, to: "capped.person@example.test");

        await app.EnqueueAsync(sent);
        await app.WaitForStateAsync(sent, SentMailState.Sent);
        await app.EnqueueAsync(capped);
        await app.WaitForStateAsync(capped, SentMailState.Capped);

        // The capped row is written before its log line, by the same run.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!capture.AllText.Contains(capped.MessageId, StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        var logs = capture.AllText;
        Assert.Contains(sent.MessageId, logs, StringComparison.Ordinal);
        Assert.Contains(capped.MessageId, logs, StringComparison.Ordinal);
        foreach (var secret in new[] { "secret.person", "capped.person", "example.test", "Asha", "invited to Acme", "join Acme", "tok123" })
        {
            Assert.DoesNotContain(secret, logs, StringComparison.OrdinalIgnoreCase);
        }
    }
}
