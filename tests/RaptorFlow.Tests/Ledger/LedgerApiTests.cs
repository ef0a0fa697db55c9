using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Razorpay;

namespace RaptorFlow.Tests.Ledger;

/// <summary>The ledger and ops endpoints over HTTP, with orgs and users made through the real API.</summary>
public sealed class LedgerApiTests : IAsyncLifetime
{
    private readonly string _adminId = SignedInUsers.NewUserId();
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        var settings = RazorpayTestKit.Settings();
        settings["Auth:PlatformAdmins:0"] = _adminId;
        _app = await TestApp.StartAsync(SignedInUsers.WithDevIssuer(settings));
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static Uri Url(string path) => new(path, UriKind.Relative);

    private async Task<(TestUser Owner, string OrgId)> OrgWithPaymentAsync(long amount, long fee)
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        await _app.DeliverAndProcessAsync(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), amount, orgId, fee: fee, tax: fee / 6), RazorpayTestKit.NewId("evt"));
        return (owner, orgId);
    }

    [Fact]
    public async Task Payment_for_an_org_created_through_the_api_shows_in_its_accounts_journal_and_trial_balance()
    {
        var (owner, orgId) = await OrgWithPaymentAsync(12_000, 300);

        var accounts = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/ledger/accounts"));
        var credit = accounts.GetProperty("data").EnumerateArray().Single(a => a.GetProperty("code").GetString() == "customer_credit");
        Assert.Equal("liability", credit.GetProperty("type").GetString());
        Assert.Equal(12_000, credit.GetProperty("balances")[0].GetProperty("balance").GetInt64());

        var journal = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/ledger/transactions?limit=1"));
        Assert.Single(journal.GetProperty("data").EnumerateArray());
        var cursor = journal.GetProperty("nextCursor").GetString();
        Assert.NotNull(cursor);
        var next = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/ledger/transactions?limit=1&cursor={cursor}"));
        var fee = next.GetProperty("data")[0];
        Assert.Equal(2, fee.GetProperty("lines").GetArrayLength());
        Assert.StartsWith("evt_", fee.GetProperty("sourceEventId").GetString());

        var trial = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/ledger/trial-balance"));
        Assert.True(trial.GetProperty("balanced").GetBoolean());
        var past = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/ledger/trial-balance?asOf=2020-01-01T00:00:00Z"));
        Assert.Empty(past.GetProperty("currencies").EnumerateArray());
    }

    [Fact]
    public async Task Another_orgs_ledger_is_404_never_403()
    {
        var (_, orgId) = await OrgWithPaymentAsync(1_000, 0);
        var stranger = await _app.SignInAsync();

        foreach (var path in new[] { "accounts", "transactions", "trial-balance" })
        {
            using var response = await stranger.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/ledger/{path}"));
            await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "org.not_found");
        }
    }

    [Fact]
    public async Task Ledger_needs_a_caller()
    {
        var (_, orgId) = await OrgWithPaymentAsync(1_000, 0);

        using var response = await _app.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/ledger/accounts"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("transactions?cursor=not-a-cursor", "validation.failed", "cursor")]
    [InlineData("transactions?limit=1000", "validation.failed", "limit")]
    [InlineData("trial-balance?asOf=yesterday", "validation.failed", "asOf")]
    [InlineData("transactions/txn_nope", "ledger.transaction_not_found", null)]
    public async Task Bad_ledger_queries_are_problems_naming_the_bad_parameter(string path, string code, string? field)
    {
        var (owner, orgId) = await _app.NewOrgAsync();

        using var response = await owner.Client.GetAsync(Url($"/api/v1/orgs/{orgId}/ledger/{path}"));

        var problem = await response.ShouldBeProblemAsync(code == "validation.failed" ? HttpStatusCode.BadRequest : HttpStatusCode.NotFound, code);
        if (field is not null)
        {
            Assert.Equal([field], problem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
        }
    }

    [Fact]
    public async Task Cursor_of_one_orgs_journal_is_refused_for_another()
    {
        var (owner, orgId) = await OrgWithPaymentAsync(5_000, 100);
        var other = await owner.CreateOrgAsync();
        var journal = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/ledger/transactions?limit=1"));

        using var response = await owner.Client.GetAsync(Url($"/api/v1/orgs/{other}/ledger/transactions?cursor={journal.GetProperty("nextCursor").GetString()}"));

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
    }

    [Fact]
    public async Task Ops_endpoints_are_for_platform_admins_only()
    {
        var owner = await _app.SignInAsync();

        using var response = await owner.Client.GetAsync(Url("/api/v1/ops/webhook-events?status=poison"));

        await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "auth.capability_missing");
    }

    [Fact]
    public async Task Admin_lists_ignored_events_and_replays_one()
    {
        var admin = await _app.SignInAsync(_adminId);
        var eventId = RazorpayTestKit.NewId("evt");
        await _app.DeliverAndProcessAsync(RazorpayTestKit.Event("payment.failed", ("payment", RazorpayTestKit.Payment(RazorpayTestKit.NewId("pay"), 100, null, status: "failed"))), eventId);

        var found = false;
        string? cursor = null;
        do
        {
            var page = await admin.Client.GetFromJsonAsync<JsonElement>(Url("/api/v1/ops/webhook-events?status=ignored&limit=100" + (cursor is null ? "" : "&cursor=" + cursor)));
            found |= page.GetProperty("data").EnumerateArray().Any(e => e.GetProperty("eventId").GetString() == eventId);
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (!found && cursor is not null);
        Assert.True(found);

        using var replay = await admin.Client.PostAsync(Url($"/api/v1/ops/webhook-events/{eventId}/replay"), null);
        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        // The answer is the event as it is now: received again, or already reprocessed (ignored
        // again) by the app's own queue poller, which may run between the enqueue and the read.
        Assert.Contains((await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString(), new[] { "received", "ignored" });
        Assert.True((await _app.InboxAsync(eventId))!.Replays >= 1);

        // A posted event is not replayable (a received one may already be reprocessed by the poller, so it is not used here).
        var postedId = RazorpayTestKit.NewId("evt");
        await _app.DeliverAndProcessAsync(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 500, null), postedId);
        using var again = await admin.Client.PostAsync(Url($"/api/v1/ops/webhook-events/{postedId}/replay"), null);
        await again.ShouldBeProblemAsync(HttpStatusCode.Conflict, "webhook_event.not_replayable");

        await _app.ProcessAsync(eventId);
        var processed = await admin.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/ops/webhook-events/{eventId}"));
        Assert.Equal("ignored", processed.GetProperty("status").GetString());
        Assert.Equal(1, processed.GetProperty("replays").GetInt32());

        // The replay is on the platform's audit trail, naming who did it; the refused one is not.
        var trail = await admin.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/ops/audit-events?action=webhook_event.replayed&actor=user:{_adminId}&limit=100"));
        var replayed = trail.GetProperty("data").EnumerateArray().Where(e => e.GetProperty("target").GetProperty("id").GetString() is { } id && (id == eventId || id == postedId)).ToList();
        var entry = Assert.Single(replayed);
        Assert.Equal(eventId, entry.GetProperty("target").GetProperty("id").GetString());
        Assert.Equal("ignored", entry.GetProperty("changes").GetProperty("status").GetProperty("before").GetString());
    }

    [Fact]
    public async Task Platform_audit_trail_is_for_platform_admins_only()
    {
        var someone = await _app.SignInAsync();

        using var response = await someone.Client.GetAsync(Url("/api/v1/ops/audit-events"));

        await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "auth.capability_missing");
    }

    [Theory]
    [InlineData("/api/v1/ops/webhook-events?status=exploded", HttpStatusCode.BadRequest, "validation.failed")]
    [InlineData("/api/v1/ops/webhook-events?status=1", HttpStatusCode.BadRequest, "validation.failed")]
    [InlineData("/api/v1/ops/webhook-events", HttpStatusCode.BadRequest, "validation.failed")]
    [InlineData("/api/v1/ops/webhook-events/evt_missing", HttpStatusCode.NotFound, "webhook_event.not_found")]
    public async Task Bad_ops_requests_are_problems(string path, HttpStatusCode status, string code)
    {
        var admin = await _app.SignInAsync(_adminId);

        using var response = await admin.Client.GetAsync(Url(path));

        await response.ShouldBeProblemAsync(status, code);
    }

    [Fact]
    public async Task Replaying_an_unknown_event_is_404()
    {
        var admin = await _app.SignInAsync(_adminId);

        using var response = await admin.Client.PostAsync(Url("/api/v1/ops/webhook-events/evt_nobody/replay"), null);

        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "webhook_event.not_found");
    }
}
