using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Tests.ApiKeys;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Razorpay;

namespace RaptorFlow.Tests.Operations;

/// <summary>The README's runbooks, step by step, against the running app: the same routes and messages ops use.</summary>
public sealed class RunbookTests : IAsyncLifetime
{
    private readonly string _adminId = SignedInUsers.NewUserId();
    private readonly FlakyConsumer _flaky = new();
    private readonly LogCapture _logs = new();
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        var settings = ApiKeyTestKit.Settings(RazorpayTestKit.Settings());
        settings["Auth:PlatformAdmins:0"] = _adminId;
        _app = await TestApp.StartAsync(settings, hostDrivesTriggers: true, customize: b =>
        {
            b.Services.AddSingleton<IRazorpayEventConsumer>(_flaky);
            b.Logging.AddProvider(_logs);
            b.Logging.AddFilter<LogCapture>(null, LogLevel.Information);
        });
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static Uri Url(string path) => new(path, UriKind.Relative);

    [Fact]
    public async Task Poisoned_webhook_is_listed_inspected_and_replayed_once_fixed()
    {
        var admin = await _app.SignInAsync(_adminId);
        var eventId = RazorpayTestKit.NewId("evt");
        using (var delivered = await _app.DeliverAsync(RazorpayTestKit.Event("test.flaky"), eventId))
        {
            Assert.Equal(HttpStatusCode.OK, delivered.StatusCode);
        }

        await Assert.ThrowsAnyAsync<Exception>(() => _app.ProcessAsync(eventId, dequeueCount: 5));

        var poison = await admin.Client.GetFromJsonAsync<JsonElement>(Url("/api/v1/ops/webhook-events?status=poison&limit=100"));
        Assert.Contains(poison.GetProperty("data").EnumerateArray(), e => e.GetProperty("eventId").GetString() == eventId);
        var inspected = await admin.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/ops/webhook-events/{eventId}"));
        Assert.Equal("poison", inspected.GetProperty("status").GetString());

        _flaky.Failing = false;
        using var replay = await admin.Client.PostAsync(Url($"/api/v1/ops/webhook-events/{eventId}/replay"), null);
        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        await _app.ProcessAsync(eventId);

        Assert.Equal(InboxStatus.Processed, (await _app.InboxAsync(eventId))!.Status);
    }

    [Fact]
    public async Task Rerunning_one_org_and_period_with_the_runbook_message_closes_it_and_repeats_harmlessly()
    {
        var (_, orgId) = await _app.NewOrgAsync();
        var message = $$"""{"orgId":"{{orgId}}","periodStart":"2026-11-01T00:00:00+00:00"}""";

        using var first = await _app.InvokeAsync(CloseOrgPeriod.FunctionName, HostInvocations.QueueTextEnvelope(message));
        using var again = await _app.InvokeAsync(CloseOrgPeriod.FunctionName, HostInvocations.QueueTextEnvelope(message));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(2, _logs.Lines.Count(l => l.Message.StartsWith($"CloseOrgPeriod for org {orgId}, period starting", StringComparison.Ordinal)));
        Assert.True((await _app.Services.GetRequiredService<InvoiceBook>().PendingAsync(orgId, default)).Count <= 1);
    }

    [Fact]
    public async Task Leaked_key_is_revoked_and_its_changes_found_in_the_audit_trail()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var leaked = await owner.CreateKeyAsync(orgId, "apikeys:manage");
        using (var misuse = _app.KeyClient(leaked.Secret))
        using (var made = await misuse.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/api-keys"), new { name = "made-by-the-leak", capabilities = new[] { "apikeys:manage" } }))
        {
            Assert.Equal(HttpStatusCode.Created, made.StatusCode);
        }

        using var revoke = await owner.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}/api-keys/{leaked.Id}"));
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        using (var refused = await _app.GetOrgWithKeyAsync(leaked.Secret, orgId))
        {
            await refused.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "api_key.revoked");
        }

        var trail = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/audit-events?actor=api_key:{leaked.Id}"));
        Assert.Contains(trail.GetProperty("data").EnumerateArray(), e => e.GetProperty("action").GetString() == "api_key.created");
        var key = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/api-keys/{leaked.Id}"));
        Assert.Equal("revoked", key.GetProperty("status").GetString());
    }
}
