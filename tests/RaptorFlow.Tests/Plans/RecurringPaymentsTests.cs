using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Plans;
using RaptorFlow.Tests.Events;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Razorpay;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;

namespace RaptorFlow.Tests.Plans;

/// <summary>
/// The app on a fake Razorpay answering <c>POST /v1/plans</c>, <c>/v1/subscriptions</c> and
/// <c>/v1/subscriptions/{id}/cancel</c> with Razorpay's documented bodies, and a catalogue plan of its own
/// (so the Razorpay plan it remembers is this fixture's alone).
/// </summary>
public sealed class RecurringAppFixture : IAsyncLifetime
{
    public const long TeamFeeMinor = 1_499_00;

    /// <summary>What the Razorpay plan charges: the fee with 18% GST.</summary>
    public const long TeamChargeMinor = 1_768_82;

    private TestApp? _app;
    private int _subscriptions;

    public WireMockServer Razorpay { get; } = WireMockServer.Start(new WireMockServerSettings { UseRegexExtended = true });

    public string TeamPlanId { get; } = "team-" + Guid.NewGuid().ToString("N")[..10];

    public TestApp App => _app ?? throw new InvalidOperationException("The app has not started.");

    public async Task InitializeAsync()
    {
        Razorpay.Given(Request.Create().WithPath("/v1/plans").UsingPost()).AtPriority(10).RespondWith(Response.Create().WithCallback(request =>
        {
            var body = JsonNode.Parse(request.Body!)!;
            var plan = new JsonObject
            {
                ["id"] = "plan_" + Guid.NewGuid().ToString("N")[..14],
                ["entity"] = "plan",
                ["interval"] = body["interval"]!.DeepClone(),
                ["period"] = body["period"]!.DeepClone(),
                ["item"] = new JsonObject
                {
                    ["id"] = "item_" + Guid.NewGuid().ToString("N")[..14],
                    ["active"] = true,
                    ["name"] = body["item"]!["name"]!.DeepClone(),
                    ["description"] = body["item"]!["description"]?.DeepClone(),
                    ["amount"] = body["item"]!["amount"]!.DeepClone(),
                    ["unit_amount"] = body["item"]!["amount"]!.DeepClone(),
                    ["currency"] = body["item"]!["currency"]!.DeepClone(),
                    ["type"] = "plan",
                    ["unit"] = null,
                    ["tax_inclusive"] = false,
                    ["hsn_code"] = null,
                    ["sac_code"] = null,
                    ["tax_rate"] = null,
                    ["tax_id"] = null,
                    ["tax_group_id"] = null,
                    ["created_at"] = 1580219935,
                    ["updated_at"] = 1580219935,
                },
                ["notes"] = body["notes"]?.DeepClone() ?? new JsonArray(),
                ["created_at"] = 1580219935,
            };
            return Json(plan);
        }));
        Razorpay.Given(Request.Create().WithPath("/v1/subscriptions").UsingPost()).AtPriority(10).RespondWith(Response.Create().WithCallback(request =>
        {
            var body = JsonNode.Parse(request.Body!)!;
            var id = $"sub_{Interlocked.Increment(ref _subscriptions):D4}{Guid.NewGuid().ToString("N")[..10]}";
            return Json(Subscription(id, body["plan_id"]!.GetValue<string>(), "created", body["notes"]!.AsObject(), body["total_count"]!.GetValue<int>()));
        }));
        Razorpay.Given(Request.Create().WithPath(new RegexMatcher("^/v1/subscriptions/sub_[A-Za-z0-9]+/cancel$")).UsingPost()).AtPriority(10).RespondWith(Response.Create().WithCallback(request =>
            Json(Subscription(request.Path.Split('/')[3], "plan_00000000000001", "cancelled", new JsonObject(), 6))));

        var settings = SignedInUsers.WithDevIssuer(RazorpayTestKit.Settings()).WithOwnDispatchQueue();
        settings[$"Plans:Catalog:{TeamPlanId}:Name"] = "Team";
        settings[$"Plans:Catalog:{TeamPlanId}:MonthlyFeeMinor"] = TeamFeeMinor.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings[$"Plans:Catalog:{TeamPlanId}:ApiRateLimitPerMinute"] = "300";
        settings["Plans:RazorpayTotalCount"] = "24";
        _app = await TestApp.StartAsync(settings, hostDrivesTriggers: true, razorpay: Razorpay);
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        Razorpay.Stop();
        Razorpay.Dispose();
    }

    /// <summary>Requests the app made to Razorpay at <paramref name="path"/> whose body mentions <paramref name="mention"/>.</summary>
    public List<JsonNode> Calls(string path, string? mention = null) =>
        [.. Razorpay.LogEntries
            .Where(e => e.RequestMessage.Path == path && (mention is null || (e.RequestMessage.Body ?? "").Contains(mention, StringComparison.Ordinal)))
            .Select(e => JsonNode.Parse(e.RequestMessage.Body ?? "{}")!)];

    public static JsonObject Subscription(string id, string planId, string status, JsonObject notes, int totalCount) => new()
    {
        ["id"] = id,
        ["entity"] = "subscription",
        ["plan_id"] = planId,
        ["status"] = status,
        ["current_start"] = null,
        ["current_end"] = null,
        ["ended_at"] = null,
        ["quantity"] = 1,
        ["notes"] = notes.DeepClone(),
        ["charge_at"] = 1580453311,
        ["start_at"] = 1580626111,
        ["end_at"] = 1583433000,
        ["auth_attempts"] = 0,
        ["total_count"] = totalCount,
        ["paid_count"] = 0,
        ["customer_notify"] = true,
        ["created_at"] = 1580280581,
        ["expire_by"] = 1580626111,
        ["short_url"] = "https://rzp.io/i/" + id[4..],
        ["has_scheduled_changes"] = false,
        ["change_scheduled_at"] = null,
        ["source"] = "api",
        ["remaining_count"] = totalCount,
    };

    private static WireMock.ResponseMessage Json(JsonNode body) => new()
    {
        StatusCode = 200,
        Headers = new Dictionary<string, WireMock.Types.WireMockList<string>> { ["Content-Type"] = new("application/json") },
        BodyData = new WireMock.Util.BodyData { DetectedBodyType = WireMock.Types.BodyType.String, BodyAsString = body.ToJsonString() },
    };
}

public sealed class RecurringPaymentsTests(RecurringAppFixture fixture) : IClassFixture<RecurringAppFixture>
{
    private TestApp App => fixture.App;

    private static Uri SubscriptionUrl(string orgId, string more = "") => new($"/api/v1/orgs/{orgId}/subscription{more}", UriKind.Relative);

    private object StartBody => new { planId = fixture.TeamPlanId, collection = "razorpay" };

    private Task<OrgSubscription> ContractAsync(string orgId) => App.Services.GetRequiredService<ISubscriptions>().GetAsync(orgId, CancellationToken.None);

    [Fact]
    public async Task Razorpay_collection_creates_a_monthly_razorpay_plan_once_and_a_subscription_noted_with_the_org_for_checkout()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        using var started = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId), StartBody);
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        var body = await started.Content.ReadFromJsonAsync<JsonElement>();

        var plans = fixture.Calls("/v1/plans", fixture.TeamPlanId);
        var plan = Assert.Single(plans);
        Assert.Equal(("monthly", 1), (plan["period"]!.GetValue<string>(), plan["interval"]!.GetValue<int>()));
        Assert.Equal((RecurringAppFixture.TeamChargeMinor, "INR"), (plan["item"]!["amount"]!.GetValue<long>(), plan["item"]!["currency"]!.GetValue<string>()));
        var subscription = Assert.Single(fixture.Calls("/v1/subscriptions", orgId));
        Assert.Equal(orgId, subscription["notes"]!["org_id"]!.GetValue<string>());
        Assert.Equal(fixture.TeamPlanId, subscription["notes"]!["plan_id"]!.GetValue<string>());
        Assert.Equal(24, subscription["total_count"]!.GetValue<int>());

        var subscriptionId = body.GetProperty("razorpaySubscriptionId").GetString()!;
        var checkout = body.GetProperty("checkout");
        Assert.Equal(subscriptionId, checkout.GetProperty("subscriptionId").GetString());
        Assert.Equal("https://rzp.io/i/" + subscriptionId[4..], checkout.GetProperty("shortUrl").GetString());
        Assert.Equal("rzp_test_stub", checkout.GetProperty("keyId").GetString());
        Assert.Equal(("free", "invoice", "created", fixture.TeamPlanId), (body.GetProperty("planId").GetString(), body.GetProperty("feeCollectedBy").GetString(),
            body.GetProperty("razorpaySubscriptionStatus").GetString(), body.GetProperty("pendingPlanId").GetString()));
        Assert.DoesNotContain("stub-key-secret", body.GetRawText(), StringComparison.Ordinal);

        // Recorded for ISubscriptions (and so for payments/verify), but charging nothing until Checkout.
        var contract = await ContractAsync(orgId);
        Assert.Equal(subscriptionId, contract.RazorpaySubscriptionId);
        Assert.False(contract.FeeCollectedByRazorpay);

        // Another org on the same plan and price reuses the Razorpay plan.
        var (other, otherOrg) = await App.NewOrgAsync();
        using var second = await other.Client.PostAsJsonAsync(SubscriptionUrl(otherOrg), StartBody);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Single(fixture.Calls("/v1/plans", fixture.TeamPlanId));
        Assert.Single(fixture.Calls("/v1/subscriptions", otherOrg));
    }

    [Fact]
    public async Task A_price_change_is_a_new_razorpay_plan_version()
    {
        var plan = App.Services.GetRequiredService<PlanCatalog>().Get(fixture.TeamPlanId);
        Assert.Equal(RecurringAppFixture.TeamChargeMinor, RazorpayPlans.ChargeOf(plan));
        Assert.NotEqual(RazorpayPlans.PriceVersion(plan), RazorpayPlans.PriceVersion(plan with { MonthlyFeeMinor = plan.MonthlyFeeMinor + 1 }));
        Assert.NotEqual(RazorpayPlans.PriceVersion(plan), RazorpayPlans.PriceVersion(plan with { Currency = "USD" }));
    }

    [Fact]
    public async Task A_second_start_answers_the_live_subscription_and_another_plan_is_refused_while_it_lives()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var ids = new List<string?>();
        for (var i = 0; i < 2; i++)
        {
            using var started = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId), StartBody);
            Assert.Equal(HttpStatusCode.OK, started.StatusCode);
            ids.Add((await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("razorpaySubscriptionId").GetString());
        }

        Assert.Equal(ids[0], ids[1]);
        Assert.Single(fixture.Calls("/v1/subscriptions", orgId));

        using var other = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId), new { planId = "pro", collection = "razorpay" });
        await other.ShouldBeProblemAsync(HttpStatusCode.Conflict, "subscription.already_recurring");
        Assert.Single(fixture.Calls("/v1/subscriptions", orgId));

        // A replay with the same idempotency key answers the first response.
        var key = Guid.NewGuid().ToString();
        string? first = null;
        for (var i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, SubscriptionUrl(orgId)) { Content = JsonContent.Create(StartBody) };
            request.Headers.Add("Idempotency-Key", key);
            using var response = await owner.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(i == 1, response.Headers.Contains("Idempotency-Replayed"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.Equal(first ?? text, text);
            first = text;
        }
    }

    [Fact]
    public async Task Racing_starts_record_one_subscription_and_cancel_the_others()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var answers = await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
        {
            using var response = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId), StartBody);
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }));

        var recorded = (await ContractAsync(orgId)).RazorpaySubscriptionId;
        Assert.NotNull(recorded);
        foreach (var (status, body) in answers)
        {
            Assert.True(status is HttpStatusCode.OK or HttpStatusCode.Conflict, body);
            if (status == HttpStatusCode.OK)
            {
                Assert.Equal(recorded, JsonDocument.Parse(body).RootElement.GetProperty("razorpaySubscriptionId").GetString());
            }
        }

        var created = fixture.Razorpay.LogEntries
            .Where(e => e.RequestMessage.Path == "/v1/subscriptions" && (e.RequestMessage.Body ?? "").Contains(orgId, StringComparison.Ordinal))
            .Select(e => JsonNode.Parse(e.ResponseMessage.BodyData!.BodyAsString!)!["id"]!.GetValue<string>())
            .ToHashSet();
        var cancelled = fixture.Razorpay.LogEntries
            .Where(e => e.RequestMessage.Path.EndsWith("/cancel", StringComparison.Ordinal))
            .Select(e => e.RequestMessage.Path.Split('/')[3])
            .Where(created.Contains)
            .ToHashSet();
        Assert.Contains(recorded, created);
        Assert.Equal(created.Except([recorded]).Order(), cancelled.Order());
    }

    [Fact]
    public async Task A_razorpay_outage_is_503_with_retry_after_and_records_no_subscription()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        fixture.Razorpay.Given(Request.Create().WithPath("/v1/subscriptions").UsingPost().WithBody(new WildcardMatcher("*" + orgId + "*")))
            .AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(503).WithBody("""{"error":{"code":"SERVER_ERROR","description":"We are facing some trouble completing your request at the moment. Please try again shortly."}}"""));

        using var failed = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId), StartBody);
        await failed.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "razorpay.unavailable");
        Assert.NotNull(failed.Headers.RetryAfter?.Delta);
        Assert.Null((await ContractAsync(orgId)).RazorpaySubscriptionId);
        Assert.Null(await App.Services.GetRequiredService<SubscriptionStore>().FindAsync(orgId, CancellationToken.None));

        // A refused (4xx) cancel is a conflict, and changes nothing either.
        using var nothing = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId, "/cancel"), new { atPeriodEnd = true });
        await nothing.ShouldBeProblemAsync(HttpStatusCode.Conflict, "subscription.not_recurring");
    }

    [Fact]
    public async Task A_razorpay_outage_on_cancel_is_503_and_records_no_cancellation()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var subscriptionId = await StartAsync(owner, orgId);
        fixture.Razorpay.Given(Request.Create().WithPath($"/v1/subscriptions/{subscriptionId}/cancel").UsingPost())
            .AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(502));

        using var failed = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId, "/cancel"), new { atPeriodEnd = false });
        await failed.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "razorpay.unavailable");
        Assert.NotNull(failed.Headers.RetryAfter?.Delta);
        Assert.Null((await App.Services.GetRequiredService<SubscriptionStore>().FindAsync(orgId, CancellationToken.None))!.CancelRequestedAt);
    }

    [Fact]
    public async Task Checkout_then_webhooks_move_the_org_to_the_plan_collected_by_razorpay_and_other_subscriptions_cannot_take_over()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var subscriptionId = await StartAsync(owner, orgId);

        await App.DeliverAndProcessAsync(SubscriptionEvent("subscription.activated", subscriptionId, orgId, "active", 1_800_000_000), NewEventId());
        var active = await ContractAsync(orgId);
        Assert.Equal((fixture.TeamPlanId, SubscriptionStatus.Active, subscriptionId, true), (active.PlanId, active.Status, active.RazorpaySubscriptionId, active.FeeCollectedByRazorpay));

        // A stray subscription of the org (say, one a lost race created and then cancelled) changes nothing.
        var stray = SubscriptionEvent("subscription.cancelled", RazorpayTestKit.NewId("sub"), orgId, "cancelled", 1_800_000_500);
        var strayId = NewEventId();
        await App.DeliverAndProcessAsync(stray, strayId);
        Assert.Equal(active, await ContractAsync(orgId));
        Assert.Equal("ignored", (await App.InboxAsync(strayId))!.Status.ToString().ToLowerInvariant());
    }

    [Fact]
    public async Task Cancelling_at_period_end_asks_razorpay_once_shows_the_intent_and_the_cancelled_webhook_ends_it()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var subscriptionId = await StartAsync(owner, orgId);
        await App.DeliverAndProcessAsync(SubscriptionEvent("subscription.activated", subscriptionId, orgId, "active", 1_800_000_000), NewEventId());

        for (var i = 0; i < 2; i++)
        {
            using var cancelled = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId, "/cancel"), new { atPeriodEnd = true });
            Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
            var body = await cancelled.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(body.GetProperty("cancelAtPeriodEnd").GetBoolean());
            Assert.Equal("active", body.GetProperty("status").GetString());
        }

        var calls = fixture.Razorpay.LogEntries.Where(e => e.RequestMessage.Path == $"/v1/subscriptions/{subscriptionId}/cancel").ToList();
        var call = Assert.Single(calls);
        Assert.True(JsonNode.Parse(call.RequestMessage.Body!)!["cancel_at_cycle_end"]!.GetValue<bool>());

        var shown = await owner.Client.GetFromJsonAsync<JsonElement>(SubscriptionUrl(orgId));
        Assert.True(shown.GetProperty("cancelAtPeriodEnd").GetBoolean());
        Assert.Equal("razorpay", shown.GetProperty("feeCollectedBy").GetString());

        // Cancelling now after asking for the cycle's end asks Razorpay again.
        using (var now = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId, "/cancel"), new { atPeriodEnd = false }))
        {
            Assert.Equal(HttpStatusCode.OK, now.StatusCode);
            Assert.False((await now.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("cancelAtPeriodEnd").GetBoolean());
        }

        Assert.Equal(2, fixture.Razorpay.LogEntries.Count(e => e.RequestMessage.Path == $"/v1/subscriptions/{subscriptionId}/cancel"));

        await App.DeliverAndProcessAsync(SubscriptionEvent("subscription.cancelled", subscriptionId, orgId, "cancelled", 1_800_000_900), NewEventId());
        var ended = await ContractAsync(orgId);
        Assert.Equal(("free", SubscriptionStatus.Cancelled, false), (ended.PlanId, ended.Status, ended.FeeCollectedByRazorpay));
        using var again = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId, "/cancel"), new { atPeriodEnd = true });
        await again.ShouldBeProblemAsync(HttpStatusCode.Conflict, "subscription.not_recurring");
    }

    [Fact]
    public async Task A_subscription_cancelled_before_checkout_leaves_the_invoiced_plan_in_place()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        using (var pro = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId), new { planId = "pro" }))
        {
            Assert.Equal(HttpStatusCode.OK, pro.StatusCode);
        }

        var subscriptionId = await StartAsync(owner, orgId);
        using (var cancelled = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId, "/cancel"), new { atPeriodEnd = true }))
        {
            Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        }

        // Awaiting Checkout it has no cycle to finish: it is cancelled at once.
        var call = fixture.Razorpay.LogEntries.Single(e => e.RequestMessage.Path == $"/v1/subscriptions/{subscriptionId}/cancel");
        Assert.False(JsonNode.Parse(call.RequestMessage.Body!)!["cancel_at_cycle_end"]!.GetValue<bool>());

        await App.DeliverAndProcessAsync(SubscriptionEvent("subscription.cancelled", subscriptionId, orgId, "cancelled", 1_800_000_900), NewEventId());
        var after = await ContractAsync(orgId);
        Assert.Equal(("pro", SubscriptionStatus.Active, false), (after.PlanId, after.Status, after.FeeCollectedByRazorpay));
    }

    [Fact]
    public async Task Bad_starts_and_cancels_are_problems_and_change_nothing()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        using (var unknown = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId), new { planId = fixture.TeamPlanId, collection = "paypal" }))
        {
            var problem = await unknown.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
            Assert.True(problem.GetProperty("errors").TryGetProperty("collection", out _));
        }

        using (var free = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId), new { planId = "free", collection = "razorpay" }))
        {
            var problem = await free.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
            Assert.True(problem.GetProperty("errors").TryGetProperty("planId", out _));
        }

        foreach (var (path, json) in new[]
        {
            ("", """{"planId":"team","collection":"razorpay" """),
            ("", """{"planId":"team","collection":true}"""),
            ("", """[1,2]"""),
            ("/cancel", """{"atPeriodEnd":"yes"}"""),
            ("/cancel", """{"atPeriodEnd":tru"""),
        })
        {
            using var malformed = await owner.Client.PostAsync(SubscriptionUrl(orgId, path), new StringContent(json, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
            Assert.Equal("application/problem+json", malformed.Content.Headers.ContentType?.MediaType);
        }

        using (var missing = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId, "/cancel"), new { }))
        {
            var problem = await missing.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
            Assert.True(problem.GetProperty("errors").TryGetProperty("atPeriodEnd", out _));
        }

        var viewer = await App.SignInAsync(email: $"v-{Guid.NewGuid():N}@example.test");
        await owner.AddMemberAsync(orgId, viewer, "viewer");
        using (var denied = await viewer.Client.PostAsJsonAsync(SubscriptionUrl(orgId), StartBody))
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        }

        using (var deniedCancel = await viewer.Client.PostAsJsonAsync(SubscriptionUrl(orgId, "/cancel"), new { atPeriodEnd = true }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, deniedCancel.StatusCode);
        }

        var (stranger, strangerOrg) = await App.NewOrgAsync();
        using (var other = await stranger.Client.PostAsJsonAsync(SubscriptionUrl(orgId), StartBody))
        {
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        }

        using (var otherCancel = await stranger.Client.PostAsJsonAsync(SubscriptionUrl(orgId, "/cancel"), new { atPeriodEnd = false }))
        {
            Assert.Equal(HttpStatusCode.NotFound, otherCancel.StatusCode);
        }

        Assert.Empty(fixture.Calls("/v1/subscriptions", orgId));
        Assert.Null(await App.Services.GetRequiredService<SubscriptionStore>().FindAsync(orgId, CancellationToken.None));
        Assert.NotNull(strangerOrg);
    }

    [Fact]
    public async Task A_subscription_charge_is_recognised_as_plan_fee_and_gst_whatever_the_event_order_and_replays()
    {
        foreach (var chargedFirst in new[] { false, true })
        {
            var (owner, orgId) = await App.NewOrgAsync();
            var subscriptionId = await StartAsync(owner, orgId);
            var paymentId = RazorpayTestKit.NewId("pay");
            var captured = RazorpayTestKit.Captured(paymentId, RecurringAppFixture.TeamChargeMinor, orgId);
            var charged = ChargedEvent(subscriptionId, orgId, paymentId, RecurringAppFixture.TeamChargeMinor);
            var (capturedId, chargedId) = (NewEventId(), NewEventId());
            foreach (var (body, id) in chargedFirst ? new[] { (charged, chargedId), (captured, capturedId) } : [(captured, capturedId), (charged, chargedId)])
            {
                await App.DeliverAndProcessAsync(body, id);
                await App.ProcessAsync(id); // replayed
            }

            await App.AssertLedgerIsConsistentAsync(orgId);
            Assert.Equal(RecurringAppFixture.TeamFeeMinor, await App.BalanceAsync(orgId, ChartOfAccounts.Revenue));
            Assert.Equal(RecurringAppFixture.TeamChargeMinor - RecurringAppFixture.TeamFeeMinor, await App.BalanceAsync(orgId, ChartOfAccounts.GstPayable));
            Assert.Equal(0, await App.BalanceAsync(orgId, ChartOfAccounts.CustomerCredit));
            Assert.Equal(RecurringAppFixture.TeamChargeMinor, await App.BalanceAsync(orgId, ChartOfAccounts.RazorpayClearing));
            Assert.True((await ContractAsync(orgId)).FeeCollectedByRazorpay);
        }
    }

    [Fact]
    public async Task A_subscription_charge_whose_payment_names_no_org_is_posted_to_the_org_its_subscription_names_whatever_the_event_order()
    {
        foreach (var chargedFirst in new[] { false, true })
        {
            var (owner, orgId) = await App.NewOrgAsync();
            var subscriptionId = await StartAsync(owner, orgId);
            var paymentId = RazorpayTestKit.NewId("pay");
            var captured = RazorpayTestKit.Captured(paymentId, RecurringAppFixture.TeamChargeMinor, orgId: null);
            var charged = ChargedEvent(subscriptionId, orgId, paymentId, RecurringAppFixture.TeamChargeMinor, paymentNamesOrg: false);
            foreach (var body in chargedFirst ? new[] { charged, captured } : [captured, charged])
            {
                var id = NewEventId();
                await App.DeliverAndProcessAsync(body, id);
                await App.ProcessAsync(id); // replayed
            }

            await App.AssertLedgerIsConsistentAsync(orgId);
            Assert.Equal(RecurringAppFixture.TeamFeeMinor, await App.BalanceAsync(orgId, ChartOfAccounts.Revenue));
            Assert.Equal(RecurringAppFixture.TeamChargeMinor - RecurringAppFixture.TeamFeeMinor, await App.BalanceAsync(orgId, ChartOfAccounts.GstPayable));
            Assert.Equal(0, await App.BalanceAsync(orgId, ChartOfAccounts.CustomerCredit));
            Assert.Equal(RecurringAppFixture.TeamChargeMinor, await App.BalanceAsync(orgId, ChartOfAccounts.RazorpayClearing));
            var engine = App.Services.GetRequiredService<PostingEngine>();
            if (await engine.FindTransactionIdAsync(ChartOfAccounts.PlatformLedger, $"payment:{paymentId}", default) is not null)
            {
                Assert.NotNull(await engine.FindTransactionIdAsync(ChartOfAccounts.PlatformLedger, $"payment:{paymentId}:released", default));
            }
        }
    }

    [Fact]
    public void The_fee_in_a_charge_priced_as_fee_plus_gst_is_exactly_that_fee()
    {
        Gen.Long[1, 100_000_000_000].Sample(fee =>
        {
            var plan = new Plan("p", "P", fee, "INR", new Dictionary<string, MeterPrice>(), 60);
            var charge = RazorpayPlans.ChargeOf(plan);
            var recognised = SubscriptionChargeRecognition.FeeOf(charge);
            return recognised == fee && charge - recognised == RaptorFlow.Functions.Invoices.InvoiceCalculation.Gst(fee);
        });
    }

    private async Task<string> StartAsync(TestUser owner, string orgId)
    {
        using var started = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId), StartBody);
        Assert.True(started.StatusCode == HttpStatusCode.OK, await started.Content.ReadAsStringAsync());
        return (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("razorpaySubscriptionId").GetString()!;
    }

    private static string NewEventId() => "evt_" + Guid.NewGuid().ToString("N");

    private JsonObject Entity(string subscriptionId, string orgId, string status) => new()
    {
        ["id"] = subscriptionId,
        ["entity"] = "subscription",
        ["plan_id"] = "plan_" + fixture.TeamPlanId,
        ["customer_id"] = "cust_" + subscriptionId[4..],
        ["status"] = status,
        ["current_start"] = 1_800_000_000,
        ["current_end"] = 1_802_592_000,
        ["quantity"] = 1,
        ["notes"] = new JsonObject { ["org_id"] = orgId, ["plan_id"] = fixture.TeamPlanId },
        ["total_count"] = 24,
        ["paid_count"] = 1,
        ["created_at"] = 1_799_999_000,
    };

    private string SubscriptionEvent(string name, string subscriptionId, string orgId, string status, long createdAt)
    {
        var json = JsonNode.Parse(RazorpayTestKit.Event(name, ("subscription", Entity(subscriptionId, orgId, status))))!;
        json["created_at"] = createdAt;
        return json.ToJsonString();
    }

    /// <summary><c>subscription.charged</c> as Razorpay sends it: the subscription and the payment, whose notes carry the subscription's.</summary>
    private string ChargedEvent(string subscriptionId, string orgId, string paymentId, long amount, bool paymentNamesOrg = true)
    {
        var payment = RazorpayTestKit.Payment(paymentId, amount, orgId);
        payment["notes"] = paymentNamesOrg ? new JsonObject { ["org_id"] = orgId, ["plan_id"] = fixture.TeamPlanId } : new JsonArray();
        payment["invoice_id"] = "inv_" + paymentId[4..];
        var json = JsonNode.Parse(RazorpayTestKit.Event("subscription.charged", ("subscription", Entity(subscriptionId, orgId, "active")), ("payment", payment)))!;
        json["created_at"] = 1_800_000_100;
        return json.ToJsonString();
    }
}
