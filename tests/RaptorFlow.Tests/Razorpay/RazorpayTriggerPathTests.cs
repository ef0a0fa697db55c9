using System.Net;
using System.Text.Json;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Tests.Fixtures;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;

namespace RaptorFlow.Tests.Razorpay;

/// <summary>ProcessRazorpayEvent and SweepWebhookInbox as the Functions host calls them: <c>POST /{FunctionName}</c> envelopes.</summary>
public sealed class RazorpayHostInvocationTests : IAsyncLifetime
{
    private readonly KnownOrganizations _orgs = new();
    private readonly FlakyConsumer _flaky = new();
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        var settings = RazorpayTestKit.Settings();
        _app = await TestApp.StartAsync(settings, hostDrivesTriggers: true, customize: builder =>
        {
            builder.Services.AddSingleton<IKnownOrganizations>(_orgs);
            builder.Services.AddSingleton<IRazorpayEventConsumer>(_flaky);
        });
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    /// <summary>The queue message the webhook enqueues: <c>{"eventId":…}</c>.</summary>
    private static string QueueEnvelope(string eventId, int dequeueCount) =>
        HostInvocations.QueueTextEnvelope(JsonSerializer.Serialize(new { eventId }), dequeueCount);

    [Fact]
    public async Task Host_invocation_posts_a_captured_payment()
    {
        var org = _orgs.Add();
        var eventId = RazorpayTestKit.NewId("evt");
        using (var delivered = await _app.DeliverAsync(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 4_200, org), eventId))
        {
            Assert.Equal(HttpStatusCode.OK, delivered.StatusCode);
        }

        using var response = await _app.InvokeAsync(ProcessRazorpayEvent.FunctionName, QueueEnvelope(eventId, 1));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(InboxStatus.Processed, (await _app.InboxAsync(eventId))!.Status);
        Assert.Equal(4_200, await _app.BalanceAsync(org, CustomerCredit));
    }

    [Fact]
    public async Task Failing_invocations_answer_non_2xx_and_the_fifth_marks_the_event_poison()
    {
        var eventId = RazorpayTestKit.NewId("evt");
        using (await _app.DeliverAsync(RazorpayTestKit.Event("test.flaky", ("payment", RazorpayTestKit.Payment(RazorpayTestKit.NewId("pay"), 1, null))), eventId))
        {
        }

        for (var dequeue = 1; dequeue <= 5; dequeue++)
        {
            using var response = await _app.InvokeAsync(ProcessRazorpayEvent.FunctionName, QueueEnvelope(eventId, dequeue));
            Assert.False(response.IsSuccessStatusCode);
            Assert.DoesNotContain("downstream unavailable", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(InboxStatus.Poison, (await _app.InboxAsync(eventId))!.Status);
    }
}

/// <summary>The same functions driven by the process's own standalone queue poller, as on a dev machine.</summary>
public sealed class RazorpayStandaloneTriggerTests : IAsyncLifetime
{
    private readonly KnownOrganizations _orgs = new();
    private readonly FlakyConsumer _flaky = new();
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        var settings = RazorpayTestKit.Settings();
        settings["Hosting:Standalone:VisibilityTimeout"] = "00:00:01";
        settings["Hosting:Standalone:MaxPollingInterval"] = "00:00:00.200";
        _app = await TestApp.StartAsync(settings, builder =>
        {
            builder.Services.AddSingleton<IKnownOrganizations>(_orgs);
            builder.Services.AddSingleton<IRazorpayEventConsumer>(_flaky);
        });
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<InboxEvent> WaitForAsync(string eventId, InboxStatus status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var current = await _app.InboxAsync(eventId);
            if (current?.Status == status)
            {
                return current;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Event {eventId} is {current?.Status}, never {status}.");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Delivered_webhook_is_posted_by_the_queue_poller_with_no_other_help()
    {
        var org = _orgs.Add();
        var eventId = RazorpayTestKit.NewId("evt");

        using (var response = await _app.DeliverAsync(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 3_300, org, fee: 80), eventId))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await WaitForAsync(eventId, InboxStatus.Processed);
        Assert.Equal(3_300, await _app.BalanceAsync(org, CustomerCredit));
        await _app.AssertLedgerIsConsistentAsync(org);
    }

    [Fact]
    public async Task Event_failing_five_dequeues_goes_to_the_poison_queue_and_replay_posts_it()
    {
        var eventId = RazorpayTestKit.NewId("evt");
        using (await _app.DeliverAsync(RazorpayTestKit.Event("test.flaky", ("payment", RazorpayTestKit.Payment(RazorpayTestKit.NewId("pay"), 1, null))), eventId))
        {
        }

        var poison = await WaitForAsync(eventId, InboxStatus.Poison);
        Assert.Equal(5, poison.Attempts);
        var poisonQueue = _app.Storage.Queue(_app.Services.GetRequiredService<RazorpayEventsQueue>().Name + "-poison");
        // The inbox records poison inside the 5th failed run; the poller moves the message right after.
        var moved = false;
        for (var i = 0; i < 300 && !moved; i++)
        {
            moved = (await poisonQueue.PeekMessagesAsync(32)).Value.Any(m => m.Body.ToString().Contains(eventId, StringComparison.Ordinal));
            if (!moved)
            {
                await Task.Delay(100);
            }
        }

        Assert.True(moved, "The message never reached the poison queue.");

        _flaky.Failing = false;
        var inbox = _app.Services.GetRequiredService<RazorpayInbox>();
        Assert.True(await inbox.ReplayAsync((await inbox.FindAsync(eventId, default))!, default));

        await WaitForAsync(eventId, InboxStatus.Processed);
    }
}
