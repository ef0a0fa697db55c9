using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Hosting;

/// <summary>Calls the app exactly as the Functions host does.</summary>
public sealed class HostContractTests : IAsyncLifetime
{
    private readonly InvocationRecorder _recorder = new();
    private readonly LogCapture _logs = new();
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(
        hostDrivesTriggers: true,
        customize: b =>
        {
            b.Logging.AddProvider(_logs);
            b.Logging.AddFilter<LogCapture>("RaptorFlow", LogLevel.Information);
            b.Services.AddSingleton(_recorder);
            b.Services.AddQueueFunction<RecordingQueueFunction>("ContractQueue", "contract-queue");
            b.Services.AddTimerFunction<RecordingTimerFunction>("ContractTimer", "0 0 * * * *");
        });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private Task<HttpResponseMessage> InvokeAsync(string function, string envelope, string invocationId = "inv-1") =>
        _app.InvokeAsync(function, envelope, invocationId);

    /// <summary>Every metadata field the host sends with a queue message.</summary>
    private static string QueueEnvelope(object message, int dequeueCount = 1) => HostInvocations.QueueEnvelope(
        message,
        new
        {
            DequeueCount = dequeueCount,
            Id = "7c1d3f7e-4b1b-4c5e-9d35-0d1f0b6a2c11",
            InsertionTime = "2026-11-23T10:00:00+00:00",
            ExpirationTime = "2026-11-30T10:00:00+00:00",
            NextVisibleTime = "2026-11-23T10:00:30+00:00",
            PopReceipt = "AgAAAAMAAAAAAAAA",
            sys = new { MethodName = "ContractQueue", UtcNow = "2026-11-23T10:00:01Z", RandGuid = "a1" },
        });

    [Fact]
    public async Task Host_readiness_probe_on_the_root_gets_an_answer()
    {
        using var response = await _app.Client.GetAsync(new Uri("/", UriKind.Relative));
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "route.not_found");
    }

    [Fact]
    public async Task Forwarded_http_request_is_answered_and_correlated()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/healthz");
        request.Headers.Add(HostInvocations.InvocationIdHeader, "3f6c2f0e-1111-4222-8333-944455556666");
        request.Headers.Add("x-request-id", "spa-req-42");
        using var response = await _app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("spa-req-42", response.Headers.GetValues("x-request-id").Single());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Contains(_logs.Lines, l => l.Scopes.Any(scope => scope.Contains("InvocationId:3f6c2f0e-1111-4222-8333-944455556666", StringComparison.Ordinal)));
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.False(response.Headers.Contains("Server"));
    }

    [Fact]
    public async Task The_older_invocation_id_header_is_read_when_the_hosts_is_absent()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/healthz");
        request.Headers.Add(HostInvocations.OlderInvocationIdHeader, "5a0c2f0e-2222-4333-8444-955566667777");
        using var response = await _app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(_logs.Lines, l => l.Scopes.Any(scope => scope.Contains("InvocationId:5a0c2f0e-2222-4333-8444-955566667777", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task The_hosts_invocation_id_wins_over_the_older_header()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/healthz");
        request.Headers.Add(HostInvocations.InvocationIdHeader, "6b1d3f1f-3333-4444-8555-a66677778888");
        request.Headers.Add(HostInvocations.OlderInvocationIdHeader, "not-the-one");
        using var response = await _app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(_logs.Lines, l => l.Scopes.Any(scope => scope.Contains("InvocationId:6b1d3f1f-3333-4444-8555-a66677778888", StringComparison.Ordinal)));
        Assert.DoesNotContain(_logs.Lines, l => l.Scopes.Any(scope => scope.Contains("InvocationId:not-the-one", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Request_without_an_id_gets_the_trace_id_and_an_unsafe_id_is_replaced()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/healthz");
        request.Headers.TryAddWithoutValidation("x-request-id", "<script>alert(1)</script>");
        using var response = await _app.Client.SendAsync(request);

        var id = response.Headers.GetValues("x-request-id").Single();
        Assert.Matches("^[0-9a-f]{32}$", id);
    }

    [Fact]
    public async Task Queue_message_whose_text_is_json_arrives_as_that_text()
    {
        var text = "{\"eventId\":\"evt_1\",\"amount\":4200}";
        using var response = await InvokeAsync("ContractQueue", QueueEnvelope(text, dequeueCount: 2));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(JsonValueKind.Object, body.RootElement.GetProperty("Outputs").ValueKind);
        Assert.Equal(JsonValueKind.Array, body.RootElement.GetProperty("Logs").ValueKind);
        Assert.Equal(JsonValueKind.Null, body.RootElement.GetProperty("ReturnValue").ValueKind);
        var seen = Assert.Single(_recorder.Messages);
        Assert.Equal(text, seen.Text);
        Assert.Equal(2, seen.DequeueCount);
        Assert.Equal("inv-1", seen.InvocationId);
        Assert.Contains(_logs.Lines, l => l.Message.Contains("ContractQueue invocation inv-1 succeeded", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Queue_message_encoded_twice_or_as_an_object_gives_the_same_text()
    {
        var text = "{\"a\":1}";
        using (var twice = await InvokeAsync("ContractQueue", QueueEnvelope(JsonSerializer.Serialize(text))))
        {
            Assert.Equal(HttpStatusCode.OK, twice.StatusCode);
        }

        using (var asObject = await InvokeAsync("ContractQueue", "{\"Data\":{\"message\":{\"a\":1}},\"Metadata\":{\"DequeueCount\":\"3\"}}"))
        {
            Assert.Equal(HttpStatusCode.OK, asObject.StatusCode);
        }

        Assert.All(_recorder.Messages, m => Assert.Equal(text, m.Text));
        Assert.Equal(2, _recorder.Messages.Count);
        Assert.Equal(3, _recorder.Messages.Last().DequeueCount);
    }

    [Fact]
    public async Task Failing_queue_function_answers_non_2xx_so_the_host_retries()
    {
        _recorder.Fail = true;
        using var response = await InvokeAsync("ContractQueue", QueueEnvelope("boom"));
        await response.ShouldBeProblemAsync(HttpStatusCode.InternalServerError, "function.failed");
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"Metadata\":{}}")]
    [InlineData("{\"Data\":{\"wrongName\":\"x\"}}")]
    [InlineData("[]")]
    public async Task Malformed_envelope_is_a_400_problem(string envelope)
    {
        using var response = await InvokeAsync("ContractQueue", envelope);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "function.invalid_envelope");
        Assert.Empty(_recorder.Messages);
    }

    [Fact]
    public async Task Unknown_function_is_a_404_problem()
    {
        using var response = await InvokeAsync("NoSuchFunction", QueueEnvelope("x"));
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "route.not_found");
    }

    [Fact]
    public async Task Timer_envelope_carries_is_past_due_and_schedule_status()
    {
        var envelope = """
            {"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"2026-11-23T09:00:00+00:00","Next":"2026-11-23T10:00:00+00:00","LastUpdated":"2026-11-23T09:00:00.5+00:00"},"IsPastDue":true}},"Metadata":{"sys":{"MethodName":"ContractTimer"}}}
            """;
        using var response = await InvokeAsync("ContractTimer", envelope, "timer-inv");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var timer = Assert.Single(_recorder.Timers);
        Assert.True(timer.IsPastDue);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero), timer.LastRun);
        Assert.Equal("timer-inv", timer.InvocationId);
    }

    [Fact]
    public async Task Heartbeat_timer_and_queue_functions_record_their_runs_readable_from_readyz()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        using (var timer = await InvokeAsync(Heartbeat.TimerName, HostInvocations.TimerEnvelope()))
        {
            Assert.Equal(HttpStatusCode.OK, timer.StatusCode);
        }

        // Other apps in the run consume the shared heartbeat queue, so deliver a beat as the host would.
        var beatText = DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        using (var beat = await InvokeAsync(Heartbeat.QueueFunctionName, QueueEnvelope(beatText)))
        {
            Assert.Equal(HttpStatusCode.OK, beat.StatusCode);
        }

        var row = (await _app.Storage.Table(Heartbeat.TableName).GetEntityAsync<HeartbeatRow>(HeartbeatRow.Key, HeartbeatRow.Key)).Value;
        Assert.True(row.TimerFiredAt >= before);
        Assert.True(row.BeatReceivedAt >= before);

        using var ready = await _app.Client.GetAsync(new Uri("/api/readyz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var json = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        var heartbeat = json.RootElement.GetProperty("checks").GetProperty("heartbeat");
        Assert.Equal("ok", heartbeat.GetProperty("status").GetString());
        Assert.True(heartbeat.GetProperty("details").TryGetProperty("lastTimerRun", out _));
        Assert.True(heartbeat.GetProperty("details").TryGetProperty("lastBeatReceived", out _));
        Assert.Equal("ok", json.RootElement.GetProperty("checks").GetProperty("storage").GetProperty("status").GetString());
    }
}
