using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Tests.Fixtures;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;

namespace RaptorFlow.Tests.Razorpay;

/// <summary>The ops route that assigns a payment parked in suspense to its org, over HTTP with real orgs and users.</summary>
public sealed class SuspenseAssignTests : IAsyncLifetime
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

    private async Task<string> ParkedPaymentAsync(long amount, long fee)
    {
        var paymentId = RazorpayTestKit.NewId("pay");
        await _app.DeliverAndProcessAsync(RazorpayTestKit.Captured(paymentId, amount, orgId: null, fee: fee, tax: fee / 6), RazorpayTestKit.NewId("evt"));
        Assert.NotNull(await _app.Services.GetRequiredService<PostingEngine>().FindTransactionIdAsync(PlatformLedger, $"payment:{paymentId}", default));
        return paymentId;
    }

    private static async Task<HttpResponseMessage> AssignAsync(TestUser caller, string paymentId, string? orgId, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url($"/api/v1/ops/suspense/{paymentId}/assign")) { Content = JsonContent.Create(new { orgId }) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await caller.Client.SendAsync(request);
    }

    [Fact]
    public async Task Assigning_a_suspense_payment_releases_it_into_the_org_ledger_balanced_and_audited()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var paymentId = await ParkedPaymentAsync(9_900, 240);
        var admin = await _app.SignInAsync(_adminId);

        using var response = await AssignAsync(admin, paymentId, orgId, RazorpayTestKit.NewId("idem"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(orgId, body.GetProperty("orgId").GetString());
        Assert.NotEmpty(body.GetProperty("transactionIds").EnumerateArray());
        Assert.Equal(9_900, await _app.BalanceAsync(orgId, CustomerCredit));
        Assert.Equal(240, await _app.BalanceAsync(orgId, ProcessingFees));
        await _app.AssertLedgerIsConsistentAsync(orgId);
        await _app.AssertLedgerIsConsistentAsync(PlatformLedger);

        var platformTrail = await admin.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/ops/audit-events?action=suspense.assigned&actor=user:{_adminId}&limit=100"));
        Assert.Contains(platformTrail.GetProperty("data").EnumerateArray(), e => e.GetProperty("target").GetProperty("id").GetString() == paymentId);
        var orgTrail = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/audit-events?action=suspense.assigned"));
        Assert.Contains(orgTrail.GetProperty("data").EnumerateArray(), e => e.GetProperty("target").GetProperty("id").GetString() == paymentId);
    }

    [Fact]
    public async Task Repeating_an_assignment_replays_its_response_and_posts_nothing_more()
    {
        var (_, orgId) = await _app.NewOrgAsync();
        var paymentId = await ParkedPaymentAsync(5_000, 100);
        var admin = await _app.SignInAsync(_adminId);
        var key = RazorpayTestKit.NewId("idem");

        using var first = await AssignAsync(admin, paymentId, orgId, key);
        using var replay = await AssignAsync(admin, paymentId, orgId, key);
        using var again = await AssignAsync(admin, paymentId, orgId);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues("Idempotency-Replayed").Single());
        Assert.Equal(await first.Content.ReadAsStringAsync(), await replay.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var ids = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("transactionIds").EnumerateArray().Select(e => e.GetString()).ToList();
        var againIds = (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("transactionIds").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Subset(ids.ToHashSet(), againIds.ToHashSet());
        Assert.Equal(5_000, await _app.BalanceAsync(orgId, CustomerCredit));
        await _app.AssertLedgerIsConsistentAsync(orgId);
    }

    [Fact]
    public async Task Only_platform_admins_may_assign_suspense_even_to_their_own_org()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var paymentId = await ParkedPaymentAsync(3_000, 0);

        using var response = await AssignAsync(owner, paymentId, orgId, RazorpayTestKit.NewId("idem"));

        await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "auth.capability_missing");
        Assert.Equal(0, await _app.BalanceAsync(orgId, CustomerCredit));
    }

    [Fact]
    public async Task A_payment_assigned_to_one_org_is_never_moved_to_another()
    {
        var (_, first) = await _app.NewOrgAsync();
        var (_, second) = await _app.NewOrgAsync();
        var paymentId = await ParkedPaymentAsync(4_400, 0);
        var admin = await _app.SignInAsync(_adminId);
        using var assigned = await AssignAsync(admin, paymentId, first);
        Assert.Equal(HttpStatusCode.OK, assigned.StatusCode);

        using var response = await AssignAsync(admin, paymentId, second);

        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "suspense.assigned_elsewhere");
        Assert.Equal(4_400, await _app.BalanceAsync(first, CustomerCredit));
        Assert.Equal(0, await _app.BalanceAsync(second, CustomerCredit));
        await _app.AssertLedgerIsConsistentAsync(second);
    }

    [Fact]
    public async Task A_payment_of_a_known_org_is_not_in_suspense_and_cannot_be_assigned_to_another()
    {
        var (_, owner) = await _app.NewOrgAsync();
        var (_, other) = await _app.NewOrgAsync();
        var paymentId = RazorpayTestKit.NewId("pay");
        await _app.DeliverAndProcessAsync(RazorpayTestKit.Captured(paymentId, 2_000, owner), RazorpayTestKit.NewId("evt"));
        var admin = await _app.SignInAsync(_adminId);

        using var response = await AssignAsync(admin, paymentId, other);

        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "suspense.payment_not_found");
        Assert.Equal(0, await _app.BalanceAsync(other, CustomerCredit));
    }

    [Theory]
    [InlineData(null, HttpStatusCode.BadRequest, "validation.failed")]
    [InlineData("org_00000000000000000000000000", HttpStatusCode.NotFound, "organization.not_found")]
    public async Task Bad_assignments_are_problems_and_change_nothing(string? orgId, HttpStatusCode status, string code)
    {
        var paymentId = await ParkedPaymentAsync(1_000, 0);
        var admin = await _app.SignInAsync(_adminId);

        using var response = await AssignAsync(admin, paymentId, orgId);

        await response.ShouldBeProblemAsync(status, code);
        Assert.Null(await _app.Services.GetRequiredService<PostingEngine>().FindTransactionIdAsync(PlatformLedger, $"payment:{paymentId}:released", default));
    }
}
