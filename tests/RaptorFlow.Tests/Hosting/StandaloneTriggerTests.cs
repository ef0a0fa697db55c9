using System.Collections.Concurrent;
using System.Text;
using Azure.Storage.Queues;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Hosting.Standalone;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Hosting;

/// <summary>Without a Functions host the process runs the same functions from its own triggers.</summary>
public sealed class StandaloneTriggerTests
{
    private static string UniqueQueue() => "standalone-" + Guid.NewGuid().ToString("N")[..12];

    private static Task<TestApp> StartWithQueueFunctionAsync(InvocationRecorder recorder, string queue, params (string Key, string Value)[] settings)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["Hosting:Standalone:VisibilityTimeout"] = "00:00:01",
            ["Hosting:Standalone:MaxPollingInterval"] = "00:00:00.100",
        };
        foreach (var (key, value) in settings)
        {
            configuration[key] = value;
        }

        return TestApp.StartAsync(configuration, customize: b =>
        {
            b.Services.AddSingleton(recorder);
            b.Services.AddQueueFunction<RecordingQueueFunction>("Standalone" + queue.Replace("-", "", StringComparison.Ordinal), queue);
        });
    }

    [Fact]
    public async Task Message_sent_with_the_storage_sdk_runs_the_queue_function_and_is_deleted()
    {
        var recorder = new InvocationRecorder();
        var queueName = UniqueQueue();
        await using var app = await StartWithQueueFunctionAsync(recorder, queueName);

        await app.Storage.Queue(queueName).SendMessageAsync("{\"hello\":\"wörld\"}");

        Assert.True(await recorder.WaitForAsync(r => !r.Messages.IsEmpty));
        var message = Assert.Single(recorder.Messages);
        Assert.Equal("{\"hello\":\"wörld\"}", message.Text);
        Assert.Equal(1, message.DequeueCount);
        Assert.True(await WaitUntilEmptyAsync(app.Storage.Queue(queueName)));
    }

    [Fact]
    public async Task Next_batch_is_received_while_a_slow_message_runs_once_no_more_than_the_threshold_are_running()
    {
        var recorder = new InvocationRecorder();
        var queueName = UniqueQueue();
        await using var app = await StartWithQueueFunctionAsync(
            recorder, queueName, ("Hosting:Standalone:BatchSize", "1"), ("Hosting:Standalone:NewBatchThreshold", "1"), ("Hosting:Standalone:VisibilityTimeout", "00:01:00"));
        var queue = app.Storage.Queue(queueName);

        await queue.SendMessageAsync("hold 1");
        await queue.SendMessageAsync("hold 2");
        Assert.True(await recorder.WaitForAsync(r => r.Messages.Count == 2));
        await queue.SendMessageAsync("quick");

        // Two running is one more than the threshold: nothing else is received until one ends.
        Assert.False(await recorder.WaitForAsync(r => r.Messages.Count > 2, TimeSpan.FromSeconds(1)));
        recorder.Holds.Release();
        Assert.True(await recorder.WaitForAsync(r => r.Messages.Any(m => m.Text == "quick")));

        recorder.Holds.Release();
        Assert.True(await WaitUntilEmptyAsync(queue));
    }

    [Fact]
    public async Task Message_running_past_its_visibility_timeout_stays_with_its_run_and_is_deleted_when_it_ends()
    {
        var recorder = new InvocationRecorder();
        var queueName = UniqueQueue();
        await using var app = await StartWithQueueFunctionAsync(recorder, queueName, ("Hosting:Standalone:VisibilityTimeout", "00:00:02"));
        var queue = app.Storage.Queue(queueName);

        await queue.SendMessageAsync("hold long");
        Assert.True(await recorder.WaitForAsync(r => !r.Messages.IsEmpty));

        // Several two-second visibility timeouts pass while the function runs; none hands it to another run.
        Assert.False(await recorder.WaitForAsync(r => r.Messages.Count > 1, TimeSpan.FromSeconds(7)));
        recorder.Holds.Release();

        Assert.True(await WaitUntilEmptyAsync(queue));
        var ran = Assert.Single(recorder.Messages);
        Assert.Equal(1, ran.DequeueCount);
    }

    [Theory]
    [InlineData("AzureWebJobs.{0}.Disabled")]
    [InlineData("AzureWebJobs:{0}:Disabled")]
    public async Task Function_disabled_by_the_hosts_app_setting_is_not_triggered_and_its_messages_wait(string settingShape)
    {
        var recorder = new InvocationRecorder();
        var disabledQueue = UniqueQueue();
        var enabledQueue = UniqueQueue();
        var disabledFunction = "Disabled" + disabledQueue.Replace("-", "", StringComparison.Ordinal);
        await using var app = await TestApp.StartAsync(
            new Dictionary<string, string?>
            {
                ["Hosting:Standalone:MaxPollingInterval"] = "00:00:00.100",
                [string.Format(System.Globalization.CultureInfo.InvariantCulture, settingShape, disabledFunction)] = "true",
            },
            customize: b =>
            {
                b.Services.AddSingleton(recorder);
                b.Services.AddQueueFunction<RecordingQueueFunction>(disabledFunction, disabledQueue);
                b.Services.AddQueueFunction<RecordingQueueFunction>("Enabled" + enabledQueue.Replace("-", "", StringComparison.Ordinal), enabledQueue);
            });

        await app.Storage.Queue(disabledQueue).SendMessageAsync("for the disabled function");
        await app.Storage.Queue(enabledQueue).SendMessageAsync("for the enabled function");

        Assert.True(await recorder.WaitForAsync(r => !r.Messages.IsEmpty));
        var ran = Assert.Single(recorder.Messages);
        Assert.Equal("for the enabled function", ran.Text);
        var waiting = (await app.Storage.Queue(disabledQueue).PeekMessageAsync()).Value;
        Assert.Equal("for the disabled function", waiting?.Body.ToString());
    }

    [Fact]
    public async Task Failing_message_is_retried_and_moved_to_the_poison_queue_after_five_dequeues()
    {
        var recorder = new InvocationRecorder { Fail = true };
        var queueName = UniqueQueue();
        await using var app = await StartWithQueueFunctionAsync(recorder, queueName);

        await app.Storage.Queue(queueName).SendMessageAsync("always fails");

        var poison = app.Storage.Queue(queueName + "-poison");
        Assert.True(await WaitForPoisonAsync(poison));
        Assert.Equal([1L, 2L, 3L, 4L, 5L], recorder.Messages.Select(m => m.DequeueCount).Order().ToArray());
        var poisoned = (await poison.ReceiveMessageAsync()).Value;
        Assert.Equal("always fails", poisoned.Body.ToString());
        Assert.True(await WaitUntilEmptyAsync(app.Storage.Queue(queueName)));
    }

    [Fact]
    public async Task Queue_messages_are_base64_on_the_wire_as_host_json_declares()
    {
        var recorder = new InvocationRecorder();
        var queueName = UniqueQueue();
        await using var app = await StartWithQueueFunctionAsync(recorder, queueName);
        var raw = new QueueClient(app.Azurite.ConnectionString, queueName, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });
        await app.Storage.Queue(queueName).SendMessageAsync("plain text");

        // Written by the app's client, read verbatim: the wire form is base64.
        var peeked = (await raw.PeekMessageAsync()).Value;
        if (peeked is not null)
        {
            Assert.Equal(Convert.ToBase64String(Encoding.UTF8.GetBytes("plain text")), peeked.Body.ToString());
        }

        // A message written verbatim as base64 (as the host's own tooling does) is understood.
        await raw.SendMessageAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes("from the portal")));
        Assert.True(await recorder.WaitForAsync(r => r.Messages.Any(m => m.Text == "from the portal")));
    }

    [Fact]
    public async Task Timer_fires_on_schedule_once_per_occurrence_across_two_instances()
    {
        var name = "StandaloneTimer" + Guid.NewGuid().ToString("N")[..8];
        var start = new DateTimeOffset(2026, 11, 23, 10, 0, 30, TimeSpan.Zero);
        var clockA = new WaitWatchingClock(start);
        var clockB = new WaitWatchingClock(start);
        var recorder = new InvocationRecorder();
        void Customize(WebApplicationBuilder b, TimeProvider clock)
        {
            b.Services.AddSingleton(clock);
            b.Services.AddSingleton(recorder);
            b.Services.AddTimerFunction<RecordingTimerFunction>(name, "0 * * * * *");
        }

        // The heartbeat timer has the same schedule: off here, so the only 30 s wait is this timer's.
        var settings = new Dictionary<string, string?> { [$"AzureWebJobs.{Heartbeat.TimerName}.Disabled"] = "true" };
        await using var a = await TestApp.StartAsync(settings, customize: b => Customize(b, clockA));
        await using var b = await TestApp.StartAsync(settings, customize: b => Customize(b, clockB));

        // Both instances wait for 10:01:00; once both wait, move both clocks past it.
        await Task.WhenAll(clockA.WaitStarted(TimeSpan.FromSeconds(30)), clockB.WaitStarted(TimeSpan.FromSeconds(30))).WaitAsync(TimeSpan.FromSeconds(60));
        clockA.Advance(TimeSpan.FromSeconds(31));
        clockB.Advance(TimeSpan.FromSeconds(31));

        Assert.True(await recorder.WaitForAsync(r => !r.Timers.IsEmpty));
        await Task.Delay(1500);
        var fired = Assert.Single(recorder.Timers);
        Assert.False(fired.IsPastDue);

        var status = await TimerScheduler.ReadStatusAsync(TimerScheduler.StatusBlob(a.Storage, name), CancellationToken.None);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 10, 1, 0, TimeSpan.Zero), status.Last);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 10, 2, 0, TimeSpan.Zero), status.Next);
    }

    [Fact]
    public async Task Occurrence_missed_while_no_instance_ran_fires_once_at_start_up_as_past_due()
    {
        var name = "PastDueTimer" + Guid.NewGuid().ToString("N")[..8];
        var recorder = new InvocationRecorder();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 12, 0, 30, TimeSpan.Zero));
        await using (var first = await TestApp.StartAsync(clock: clock))
        {
            // Record a schedule status whose next occurrence is long gone.
            var blob = TimerScheduler.StatusBlob(first.Storage, name);
            await blob.UploadAsync(BinaryData.FromString(
                "{\"last\":\"2026-11-23T09:00:00+00:00\",\"next\":\"2026-11-23T10:00:00+00:00\",\"lastUpdated\":\"2026-11-23T09:00:01+00:00\"}"), overwrite: true);
        }

        await using var app = await TestApp.StartAsync(clock: clock, customize: b =>
        {
            b.Services.AddSingleton(recorder);
            b.Services.AddTimerFunction<RecordingTimerFunction>(name, "0 0 * * * *");
        });

        Assert.True(await recorder.WaitForAsync(r => !r.Timers.IsEmpty));
        var fired = Assert.Single(recorder.Timers);
        Assert.True(fired.IsPastDue);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero), fired.LastRun);
    }

    private static async Task<bool> WaitUntilEmptyAsync(QueueClient queue)
    {
        for (var i = 0; i < 100; i++)
        {
            var properties = await queue.GetPropertiesAsync();
            if (properties.Value.ApproximateMessagesCount == 0)
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }

    private static async Task<bool> WaitForPoisonAsync(QueueClient poison)
    {
        for (var i = 0; i < 300; i++)
        {
            if ((await poison.PeekMessageAsync()).Value is not null)
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }
}

/// <summary>A fake clock that tells when something starts waiting on it for a given time.</summary>
internal sealed class WaitWatchingClock(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly ConcurrentDictionary<TimeSpan, TaskCompletionSource> _waits = new();

    public Task WaitStarted(TimeSpan dueTime) =>
        _waits.GetOrAdd(dueTime, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        _waits.GetOrAdd(dueTime, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        return timer;
    }
}
