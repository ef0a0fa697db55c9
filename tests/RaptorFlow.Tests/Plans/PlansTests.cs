using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Plans;
using RaptorFlow.Tests.Events;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Razorpay;

namespace RaptorFlow.Tests.Plans;

/// <summary>The app with the development issuer and a webhook secret, with a Razorpay plan id configured for <c>pro</c>.</summary>
public sealed class PlansAppFixture : IAsyncLifetime
{
    public const string RazorpayProPlanId = "plan_ProMonthly01";

    private TestApp? _app;

    public TestApp App => _app ?? throw new InvalidOperationException("The app has not started.");

    public async Task InitializeAsync()
    {
        var settings = SignedInUsers.WithDevIssuer(RazorpayTestKit.Settings()).WithOwnDispatchQueue();
        settings["Plans:Catalog:pro:RazorpayPlanId"] = RazorpayProPlanId;
        _app = await TestApp.StartAsync(settings, hostDrivesTriggers: true);
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

public sealed class PlansTests(PlansAppFixture fixture) : IClassFixture<PlansAppFixture>
{
    private TestApp App => fixture.App;

    private static Uri Url(string path) => new(path, UriKind.Relative);

    private static Uri SubscriptionUrl(string orgId) => Url($"/api/v1/orgs/{orgId}/subscription");

    [Fact]
    public async Task Plans_are_public_with_fees_in_paise_quota_overage_and_rate_limit()
    {
        using var response = await App.CreateClient().GetAsync(Url("/api/v1/plans"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var plans = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("free", plans.GetProperty("defaultPlanId").GetString());
        var ids = plans.GetProperty("data").EnumerateArray().Select(p => p.GetProperty("id").GetString()).ToList();
        Assert.Equal(["free", "pro", "enterprise"], ids);
        var pro = plans.GetProperty("data")[1];
        Assert.Equal(299900, pro.GetProperty("monthlyFeeMinor").GetInt64());
        Assert.Equal("INR", pro.GetProperty("currency").GetString());
        Assert.Equal(600, pro.GetProperty("apiRateLimitPerMinute").GetInt32());
        var calls = pro.GetProperty("meters").GetProperty("api_calls");
        Assert.Equal(1_000_000, calls.GetProperty("includedQuantity").GetInt64());
        Assert.Equal(10_000, calls.GetProperty("unitSize").GetInt64());
        Assert.Equal(5000, calls.GetProperty("pricePerUnitBlockMinor").GetInt64());
    }

    [Theory]
    [InlineData(1_000_000, 0)]
    [InlineData(1_000_001, 5000)]
    [InlineData(1_010_000, 5000)]
    [InlineData(1_010_001, 10000)]
    [InlineData(0, 0)]
    public void Overage_is_charged_per_started_block(long used, long expectedMinor)
    {
        var pro = App.Services.GetRequiredService<PlanCatalog>().Get("pro");
        Assert.Equal(expectedMinor, pro.Meters["api_calls"].OverageMinor(used));
    }

    [Fact]
    public async Task A_new_org_is_on_the_free_plan_for_the_calendar_month()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var subscription = await owner.Client.GetFromJsonAsync<JsonElement>(SubscriptionUrl(orgId));
        Assert.Equal("free", subscription.GetProperty("planId").GetString());
        Assert.Equal("active", subscription.GetProperty("status").GetString());
        Assert.Equal("invoice", subscription.GetProperty("feeCollectedBy").GetString());
        var start = subscription.GetProperty("currentPeriodStart").GetDateTimeOffset();
        var end = subscription.GetProperty("currentPeriodEnd").GetDateTimeOffset();
        Assert.Equal(TimeSpan.Zero, start.Offset);
        Assert.Equal(1, start.Day);
        Assert.Equal(start.AddMonths(1), end);
        Assert.InRange(DateTimeOffset.UtcNow, start, end);

        var contract = await App.Services.GetRequiredService<ISubscriptions>().GetAsync(orgId, CancellationToken.None);
        Assert.Equal(new OrgSubscription(orgId, "free", SubscriptionStatus.Active, start, end, null), contract);
    }

    [Fact]
    public async Task Changing_the_plan_takes_effect_at_once_is_audited_and_replays_with_the_same_key()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, SubscriptionUrl(orgId)) { Content = JsonContent.Create(new { planId = "pro" }) };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        var key = request.Headers.GetValues("Idempotency-Key").Single();
        using var changed = await owner.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        var body = await changed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("pro", body.GetProperty("planId").GetString());
        Assert.Equal(299900, body.GetProperty("monthlyFeeMinor").GetInt64());

        using var replay = new HttpRequestMessage(HttpMethod.Post, SubscriptionUrl(orgId)) { Content = JsonContent.Create(new { planId = "pro" }) };
        replay.Headers.Add("Idempotency-Key", key);
        using var replayed = await owner.Client.SendAsync(replay);
        Assert.Equal(HttpStatusCode.OK, replayed.StatusCode);
        Assert.True(replayed.Headers.Contains("Idempotency-Replayed"));

        var contract = await App.Services.GetRequiredService<ISubscriptions>().GetAsync(orgId, CancellationToken.None);
        Assert.Equal("pro", contract.PlanId);
        Assert.False(contract.FeeCollectedByRazorpay);

        var audit = await AuditActionsAsync(orgId);
        Assert.Single(audit, a => a == "subscription.changed");
    }

    [Fact]
    public async Task A_plan_change_and_a_subscription_webhook_each_emit_one_subscription_changed_with_the_subscription()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        for (var i = 0; i < 2; i++)
        {
            using var changed = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId), new { planId = "pro" });
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        }

        var planChanged = await App.SingleEventAsync(owner, orgId, EventTypes.SubscriptionChanged);
        await EventFeedKit.AssertDataIsResourceAsync(planChanged, owner, $"/api/v1/orgs/{orgId}/subscription");

        var activated = SubscriptionEvent("subscription.activated", RazorpayTestKit.NewId("sub"), orgId, "active", 1_800_000_000);
        var eventId = "evt_" + Guid.NewGuid().ToString("N");
        await App.DeliverAndProcessAsync(activated, eventId);
        await App.DeliverAndProcessAsync(activated, eventId); // redelivered

        var changes = await App.EventsOfTypeAsync(owner, orgId, EventTypes.SubscriptionChanged);
        Assert.Equal(2, changes.Count);
        await EventFeedKit.AssertDataIsResourceAsync(changes[0], owner, $"/api/v1/orgs/{orgId}/subscription");
        Assert.Equal("razorpay", changes[0].GetProperty("data").GetProperty("feeCollectedBy").GetString());
    }

    [Fact]
    public async Task Bad_plan_changes_are_problems_and_change_nothing()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        using (var unknown = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId), new { planId = "platinum" }))
        {
            await unknown.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
        }

        using (var wrongType = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId), new { planId = 3 }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        }

        var stranger = await App.SignInAsync();
        using (var other = await stranger.Client.PostAsJsonAsync(SubscriptionUrl(orgId), new { planId = "pro" }))
        {
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        }

        var member = await App.SignInAsync(email: $"m-{Guid.NewGuid():N}@example.test");
        await owner.AddMemberAsync(orgId, member, "member");
        using (var denied = await member.Client.PostAsJsonAsync(SubscriptionUrl(orgId), new { planId = "pro" }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        }

        Assert.Equal("free", (await App.Services.GetRequiredService<ISubscriptions>().GetAsync(orgId, CancellationToken.None)).PlanId);
    }

    [Fact]
    public async Task Subscription_webhooks_apply_in_event_order_whatever_the_delivery_order()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var subscriptionId = RazorpayTestKit.NewId("sub");
        var activated = SubscriptionEvent("subscription.activated", subscriptionId, orgId, "active", 1_800_000_000);
        var charged = SubscriptionEvent("subscription.charged", subscriptionId, orgId, "active", 1_800_000_100);
        var halted = SubscriptionEvent("subscription.halted", subscriptionId, orgId, "halted", 1_800_000_200);
        var cancelled = SubscriptionEvent("subscription.cancelled", subscriptionId, orgId, "cancelled", 1_800_000_300);

        await App.DeliverAndProcessAsync(charged, "evt_" + Guid.NewGuid().ToString("N"));
        var afterCharge = await App.Services.GetRequiredService<ISubscriptions>().GetAsync(orgId, CancellationToken.None);
        Assert.Equal(("pro", SubscriptionStatus.Active, subscriptionId), (afterCharge.PlanId, afterCharge.Status, afterCharge.RazorpaySubscriptionId));
        Assert.True(afterCharge.FeeCollectedByRazorpay);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000), afterCharge.CurrentPeriodStart);

        // An older event arriving late changes nothing.
        await App.DeliverAndProcessAsync(activated, "evt_" + Guid.NewGuid().ToString("N"));
        Assert.Equal(afterCharge, await App.Services.GetRequiredService<ISubscriptions>().GetAsync(orgId, CancellationToken.None));

        using (var blocked = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId), new { planId = "enterprise" }))
        {
            await blocked.ShouldBeProblemAsync(HttpStatusCode.Conflict, "subscription.managed_by_razorpay");
        }

        var haltedEventId = "evt_" + Guid.NewGuid().ToString("N");
        await App.DeliverAndProcessAsync(halted, haltedEventId);
        Assert.Equal(SubscriptionStatus.Halted, (await App.Services.GetRequiredService<ISubscriptions>().GetAsync(orgId, CancellationToken.None)).Status);

        await App.DeliverAndProcessAsync(cancelled, "evt_" + Guid.NewGuid().ToString("N"));
        // The same halted event redelivered under a new delivery id, after the cancellation: ignored.
        await App.DeliverAndProcessAsync(halted, "evt_" + Guid.NewGuid().ToString("N"));
        var ended = await App.Services.GetRequiredService<ISubscriptions>().GetAsync(orgId, CancellationToken.None);
        Assert.Equal(("free", SubscriptionStatus.Cancelled), (ended.PlanId, ended.Status));
        Assert.False(ended.FeeCollectedByRazorpay);

        var changes = (await AuditActionsAsync(orgId)).Count(a => a == "subscription.changed");
        Assert.Equal(3, changes);

        // After the Razorpay subscription ended, the plan can be chosen here again.
        using var again = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId), new { planId = "pro" });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("invoice", (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("feeCollectedBy").GetString());
    }

    [Fact]
    public async Task Subscription_webhook_for_an_unknown_org_or_plan_is_ignored()
    {
        var unknownOrg = SubscriptionEvent("subscription.activated", RazorpayTestKit.NewId("sub"), RazorpayTestKit.NewOrgId(), "active", 1_800_000_000);
        var eventId = "evt_" + Guid.NewGuid().ToString("N");
        await App.DeliverAndProcessAsync(unknownOrg, eventId);
        Assert.Equal("ignored", (await App.InboxAsync(eventId))!.Status.ToString().ToLowerInvariant());

        var (owner, orgId) = await App.NewOrgAsync();
        var unknownPlan = SubscriptionEvent("subscription.activated", RazorpayTestKit.NewId("sub"), orgId, "active", 1_800_000_000, razorpayPlanId: "plan_SomethingElse");
        await App.DeliverAndProcessAsync(unknownPlan, "evt_" + Guid.NewGuid().ToString("N"));
        Assert.Equal("free", (await App.Services.GetRequiredService<ISubscriptions>().GetAsync(orgId, CancellationToken.None)).PlanId);
    }

    [Fact]
    public async Task Every_change_of_the_plan_that_bills_an_org_is_kept_in_its_plan_history_in_order()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var store = App.Services.GetRequiredService<SubscriptionStore>();
        Assert.Empty(await store.GetPlanHistoryAsync(orgId, CancellationToken.None)); // the default plan, since ever

        var before = DateTimeOffset.UtcNow;
        foreach (var planId in new[] { "pro", "enterprise", "enterprise" })
        {
            using var changed = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId), new { planId });
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        }

        // Racing changes: whichever wins, the history ends with the plan the subscription holds.
        await Task.WhenAll(Enumerable.Range(0, 6).Select(async i =>
        {
            using var raced = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId), new { planId = i % 2 == 0 ? "pro" : "free" });
        }));

        var subscriptionId = RazorpayTestKit.NewId("sub");
        await App.DeliverAndProcessAsync(SubscriptionEvent("subscription.activated", subscriptionId, orgId, "active", 1_900_000_000), "evt_" + Guid.NewGuid().ToString("N"));
        await App.DeliverAndProcessAsync(SubscriptionEvent("subscription.charged", subscriptionId, orgId, "active", 1_900_000_100), "evt_" + Guid.NewGuid().ToString("N"));
        await App.DeliverAndProcessAsync(SubscriptionEvent("subscription.cancelled", subscriptionId, orgId, "cancelled", 1_900_000_200), "evt_" + Guid.NewGuid().ToString("N"));
        var after = DateTimeOffset.UtcNow;

        var history = await store.GetPlanHistoryAsync(orgId, CancellationToken.None);
        Assert.Equal([("pro", false), ("enterprise", false)], history.Take(2).Select(c => (c.PlanId, c.FeeCollectedByRazorpay)));
        Assert.Equal([("pro", true), ("free", false)], history.TakeLast(2).Select(c => (c.PlanId, c.FeeCollectedByRazorpay)));
        Assert.All(history.Zip(history.Skip(1)), pair =>
        {
            Assert.True(pair.First.EffectiveFrom < pair.Second.EffectiveFrom);
            Assert.NotEqual((pair.First.PlanId, pair.First.FeeCollectedByRazorpay), (pair.Second.PlanId, pair.Second.FeeCollectedByRazorpay));
        });
        Assert.All(history, c => Assert.InRange(c.EffectiveFrom, before, after));
        Assert.Equal((await App.Services.GetRequiredService<ISubscriptions>().GetAsync(orgId, CancellationToken.None)).PlanId, history[^1].PlanId);
    }

    [Fact]
    public async Task A_subscription_saved_before_plan_history_was_kept_keeps_its_plan_in_the_history_when_it_changes()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var store = App.Services.GetRequiredService<SubscriptionStore>();
        var since = new DateTimeOffset(2026, 3, 14, 10, 0, 0, TimeSpan.Zero);
        var legacy = new Azure.Data.Tables.TableEntity(orgId, SubscriptionRow.CurrentRowKey)
        {
            ["PlanId"] = "pro",
            ["Status"] = SubscriptionStatus.Active,
            ["ChangedAt"] = since,
            ["ChangedBy"] = "user:legacy",
        };
        await store.Table.AddEntityAsync(legacy);
        Assert.Equal([new PlanChange(since, "pro", false)], await store.GetPlanHistoryAsync(orgId, CancellationToken.None));

        using var changed = await owner.Client.PostAsJsonAsync(SubscriptionUrl(orgId), new { planId = "enterprise" });
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);

        var history = await store.GetPlanHistoryAsync(orgId, CancellationToken.None);
        Assert.Equal([(since, "pro"), (history[1].EffectiveFrom, "enterprise")], history.Select(c => (c.EffectiveFrom, c.PlanId)));
        Assert.True(history[1].EffectiveFrom > since);
    }

    private static string SubscriptionEvent(string name, string subscriptionId, string orgId, string status, long createdAt, string razorpayPlanId = PlansAppFixture.RazorpayProPlanId)
    {
        var entity = new JsonObject
        {
            ["id"] = subscriptionId,
            ["entity"] = "subscription",
            ["plan_id"] = razorpayPlanId,
            ["customer_id"] = "cust_" + subscriptionId[4..],
            ["status"] = status,
            ["current_start"] = 1_800_000_000,
            ["current_end"] = 1_802_592_000,
            ["quantity"] = 1,
            ["notes"] = new JsonObject { ["org_id"] = orgId },
            ["total_count"] = 120,
            ["paid_count"] = 1,
            ["created_at"] = 1_799_999_000,
        };
        var json = JsonNode.Parse(RazorpayTestKit.Event(name, ("subscription", entity)))!;
        json["created_at"] = createdAt;
        return json.ToJsonString();
    }

    private async Task<List<string>> AuditActionsAsync(string orgId)
    {
        var actions = new List<string>();
        await foreach (var row in App.Services.GetRequiredService<AuditLog>().Table.QueryAsync<AuditEventRow>(
            Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {orgId}")))
        {
            actions.Add(row.Action);
        }

        return actions;
    }
}
