using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Hosting;

/// <summary>
/// A storage outage longer than the storage SDK's own retries must not end the standalone
/// triggers (nor the app): once storage answers again, queue messages and timer occurrences run.
/// </summary>
public sealed class StandaloneOutageTests
{
    // Longer than the storage SDK's default retries against refused connections (6 tries over
    // about 35 s), so its calls give up with an AggregateException while storage is still down.
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task Queue_and_timer_triggers_outlive_a_storage_outage_and_run_once_storage_is_back()
    {
        var recorder = new InvocationRecorder();
        var queueName = "outage-" + Guid.NewGuid().ToString("N")[..12];
        var timerName = "OutageTimer" + Guid.NewGuid().ToString("N")[..8];
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var outage = StorageOutage.Over(await Azurite.Shared);
        await using var app = await TestApp.StartAsync(
            new Dictionary<string, string?>
            {
                ["AzureWebJobsStorage"] = outage.ConnectionString,
                ["Hosting:Standalone:MaxPollingInterval"] = "00:00:00.200",
            },
            customize: b =>
            {
                b.Services.AddSingleton<TimeProvider>(clock);
                b.Services.AddSingleton(recorder);
                b.Services.AddQueueFunction<RecordingQueueFunction>("Outage" + queueName.Replace("-", "", StringComparison.Ordinal), queueName);
                b.Services.AddTimerFunction<RecordingTimerFunction>(timerName, "0 * * * * *");
            });
        var stopping = app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;

        outage.Begin();
        // A timer occurrence falls due while storage is down.
        clock.Advance(TimeSpan.FromMinutes(1));
        await Task.Delay(Outage);
        outage.End();

        await app.Storage.Queue(queueName).SendMessageAsync("after the outage");
        Assert.True(await recorder.WaitForAsync(r => r.Messages.Any(m => m.Text == "after the outage"), TimeSpan.FromSeconds(60)));

        // The scheduler waits out the outage on the app's clock: move it on until the occurrence fires.
        for (var step = 0; step < 120 && recorder.Timers.IsEmpty; step++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(250);
        }

        Assert.NotEmpty(recorder.Timers);
        Assert.False(stopping.IsCancellationRequested);
        using var health = await app.Client.GetAsync(new Uri("/api/healthz", UriKind.Relative));
        Assert.True(health.IsSuccessStatusCode);
    }
}
