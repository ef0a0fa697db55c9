using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Webhooks;
using RaptorFlow.Tests.Events;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Webhooks;

public sealed class WebhookDeliveryTests(WebhookApp fixture) : IClassFixture<WebhookApp>
{
    private TestApp App => fixture.App;
    private WebhookReceiver Receiver => fixture.Receiver;

    private List<ReceivedWebhook> At(Uri url) => [.. Receiver.Received.Where(r => r.Path == url.AbsolutePath)];

    private Uri NewPath() => Receiver.Path("/hooks/" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task An_event_arrives_once_per_endpoint_with_the_standard_body_and_the_event_id_as_webhook_id()
    {
        Receiver.Respond = _ => (204, null, null);
        var (owner, orgId) = await App.NewOrgAsync();
        var url = NewPath();
        var endpoint = await owner.CreateEndpointAsync(orgId, url);

        var published = await App.PublishAsync(orgId, EventTypes.InvoicePaid, new { id = "inv_1", amount = 118000 });
        await App.PublishAsync(orgId, again: published);
        await App.DrainDeliveriesAsync();

        var received = Assert.Single(At(url));
        Assert.Equal(published.Id, received.Id);
        Assert.True(received.IsSignedWith(endpoint.Secret));
        var body = received.Json;
        Assert.Equal(EventTypes.InvoicePaid, body.GetProperty("type").GetString());
        Assert.Equal(published.Id, body.GetProperty("id").GetString());
        Assert.Equal(orgId, body.GetProperty("orgId").GetString());
        Assert.Equal(118000, body.GetProperty("data").GetProperty("amount").GetInt32());
        Assert.Equal(published.CreatedAt, body.GetProperty("timestamp").GetDateTimeOffset());
        var delivery = await owner.SingleDeliveryAsync(orgId, endpoint.Id);
        Assert.Equal("succeeded", delivery.GetProperty("status").GetString());
        Assert.Equal(204, delivery.GetProperty("attempts")[0].GetProperty("statusCode").GetInt32());
    }

    [Fact]
    public async Task A_duplicate_queue_message_sends_nothing_twice()
    {
        Receiver.Respond = _ => (200, "ok", null);
        var (owner, orgId) = await App.NewOrgAsync();
        var url = NewPath();
        var endpoint = await owner.CreateEndpointAsync(orgId, url);
        await App.PublishAsync(orgId);
        var delivery = await owner.SingleDeliveryAsync(orgId, endpoint.Id);
        var message = new WebhookDeliveryMessage(orgId, endpoint.Id, delivery.GetProperty("id").GetString()!, 0, 1);

        await App.InvokeDeliveryAsync(message);
        await App.InvokeDeliveryAsync(message);
        await App.DrainDeliveriesAsync();

        Assert.Single(At(url));
    }

    [Fact]
    public async Task A_receiver_that_answers_500_twice_gets_the_third_attempt_with_the_same_webhook_id_on_schedule()
    {
        var url = NewPath();
        var calls = 0;
        Receiver.Respond = r => r.Path == url.AbsolutePath && Interlocked.Increment(ref calls) <= 2 ? (500, "down", null) : (200, null, null);
        var (owner, orgId) = await App.NewOrgAsync();
        var endpoint = await owner.CreateEndpointAsync(orgId, url);
        await App.PublishAsync(orgId);

        await App.DrainDeliveriesAsync();
        var afterFirst = await owner.SingleDeliveryAsync(orgId, endpoint.Id);
        Assert.Equal("pending", afterFirst.GetProperty("status").GetString());
        AssertDelayWithinJitter(afterFirst, TimeSpan.FromSeconds(5));
        await fixture.RunNextAttemptAsync(orgId, endpoint.Id, afterFirst);

        var afterSecond = await owner.SingleDeliveryAsync(orgId, endpoint.Id);
        AssertDelayWithinJitter(afterSecond, TimeSpan.FromMinutes(5));
        await fixture.RunNextAttemptAsync(orgId, endpoint.Id, afterSecond);

        var received = At(url);
        Assert.Equal(3, received.Count);
        Assert.Single(received.Select(r => r.Id).Distinct());
        Assert.All(received, r => Assert.True(r.IsSignedWith(endpoint.Secret)));
        var settled = await owner.SingleDeliveryAsync(orgId, endpoint.Id);
        Assert.Equal("succeeded", settled.GetProperty("status").GetString());
        Assert.Equal([500, 500, 200], settled.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("statusCode").GetInt32()));
        Assert.Equal("down", settled.GetProperty("attempts")[0].GetProperty("responseBody").GetString());
    }

    [Fact]
    public async Task The_abort_header_stops_retries()
    {
        var url = NewPath();
        Receiver.Respond = r => r.Path == url.AbsolutePath
            ? (410, null, new Dictionary<string, string> { ["webhook-delivery"] = "abort-message" })
            : (200, null, null);
        var (owner, orgId) = await App.NewOrgAsync();
        var endpoint = await owner.CreateEndpointAsync(orgId, url);
        await App.PublishAsync(orgId);

        await App.DrainDeliveriesAsync();
        var delivery = await owner.SingleDeliveryAsync(orgId, endpoint.Id);
        Assert.Equal("aborted", delivery.GetProperty("status").GetString());
        Assert.False(delivery.TryGetProperty("nextAttemptAt", out _));

        // A second attempt's message, had one been queued, would now do nothing.
        await App.InvokeDeliveryAsync(new WebhookDeliveryMessage(orgId, endpoint.Id, delivery.GetProperty("id").GetString()!, 0, 2));
        Assert.Single(At(url));
    }

    [Fact]
    public async Task An_endpoint_failing_every_attempt_for_five_days_is_disabled_and_audited()
    {
        var url = NewPath();
        Receiver.Respond = r => r.Path == url.AbsolutePath ? (503, null, null) : (200, null, null);
        var (owner, orgId) = await App.NewOrgAsync();
        var endpoint = await owner.CreateEndpointAsync(orgId, url);

        await App.PublishAsync(orgId);
        await App.DrainDeliveriesAsync();
        Assert.True((await owner.EndpointAsync(orgId, endpoint.Id)).GetProperty("enabled").GetBoolean());

        fixture.Clock.Advance(TimeSpan.FromDays(5));
        owner = await fixture.SignInAgainAsync(owner);
        await App.PublishAsync(orgId);
        await App.DrainDeliveriesAsync();

        var disabled = await owner.EndpointAsync(orgId, endpoint.Id);
        Assert.False(disabled.GetProperty("enabled").GetBoolean());
        Assert.Equal("failing", disabled.GetProperty("disabledReason").GetString());
        var audit = App.Services.GetRequiredService<AuditLog>().Table;
        var entries = audit.Query<AuditEventRow>(TableClient.CreateQueryFilter($"PartitionKey eq {orgId} and Action eq 'webhook_endpoint.disabled'")).ToList();
        Assert.Equal(endpoint.Id, Assert.Single(entries).TargetId);

        // One webhook_endpoint.disabled in the feed, its data the endpoint as the API returns it.
        var disabledEvent = await App.SingleEventAsync(owner, orgId, EventTypes.WebhookEndpointDisabled);
        await EventFeedKit.AssertDataIsResourceAsync(disabledEvent, owner, $"/api/v1/orgs/{orgId}/webhook-endpoints/{endpoint.Id}");
        Assert.False(disabledEvent.GetProperty("data").TryGetProperty("secret", out _));

        // Nothing more is sent to it.
        var before = At(url).Count;
        await App.PublishAsync(orgId);
        await App.DrainDeliveriesAsync();
        Assert.Equal(before, At(url).Count);
    }

    [Fact]
    public async Task During_a_rotation_both_secrets_sign_and_after_24_hours_only_the_new_one()
    {
        Receiver.Respond = _ => (200, null, null);
        var url = NewPath();
        var (owner, orgId) = await App.NewOrgAsync();
        var endpoint = await owner.CreateEndpointAsync(orgId, url);
        using var rotate = await owner.Client.PostAsync(new Uri($"/api/v1/orgs/{orgId}/webhook-endpoints/{endpoint.Id}/rotate-secret", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, rotate.StatusCode);
        var newSecret = (await rotate.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;
        Assert.NotEqual(endpoint.Secret, newSecret);

        await App.PublishAsync(orgId);
        await App.DrainDeliveriesAsync();
        var during = Assert.Single(At(url));
        Assert.Equal(2, during.Signatures.Length);
        Assert.True(during.IsSignedWith(endpoint.Secret));
        Assert.True(during.IsSignedWith(newSecret));

        fixture.Clock.Advance(TimeSpan.FromHours(24) + TimeSpan.FromSeconds(1));
        await App.PublishAsync(orgId);
        await App.DrainDeliveriesAsync();
        var after = At(url)[1];
        Assert.Single(after.Signatures);
        Assert.True(after.IsSignedWith(newSecret));
        Assert.False(after.IsSignedWith(endpoint.Secret));
    }

    [Fact]
    public async Task Events_of_one_org_never_reach_another_orgs_endpoints()
    {
        Receiver.Respond = _ => (200, null, null);
        var (ownerA, orgA) = await App.NewOrgAsync();
        var (ownerB, orgB) = await App.NewOrgAsync();
        var urlA = NewPath();
        var urlB = NewPath();
        await ownerA.CreateEndpointAsync(orgA, urlA);
        var endpointB = await ownerB.CreateEndpointAsync(orgB, urlB);

        var published = await App.PublishAsync(orgA);
        await App.DrainDeliveriesAsync();

        Assert.Equal(published.Id, Assert.Single(At(urlA)).Id);
        Assert.Empty(At(urlB));
        Assert.Empty(await ownerB.DeliveriesAsync(orgB, endpointB.Id));
    }

    [Fact]
    public async Task An_endpoint_receives_only_the_event_types_it_subscribed_to()
    {
        Receiver.Respond = _ => (200, null, null);
        var url = NewPath();
        var (owner, orgId) = await App.NewOrgAsync();
        await owner.CreateEndpointAsync(orgId, url, new { eventTypes = new[] { EventTypes.PaymentCaptured } });

        await App.PublishAsync(orgId, EventTypes.InvoicePaid);
        var captured = await App.PublishAsync(orgId, EventTypes.PaymentCaptured);
        await App.DrainDeliveriesAsync();

        Assert.Equal(captured.Id, Assert.Single(At(url)).Id);
    }

    [Fact]
    public async Task The_test_call_sends_a_ping_now_and_logs_its_attempt_with_the_first_KiB_of_the_answer()
    {
        var url = NewPath();
        Receiver.Respond = _ => (200, new string('x', 3000), null);
        var (owner, orgId) = await App.NewOrgAsync();
        var endpoint = await owner.CreateEndpointAsync(orgId, url, new { eventTypes = new[] { EventTypes.InvoicePaid } });

        using var response = await owner.Client.PostAsync(new Uri($"/api/v1/orgs/{orgId}/webhook-endpoints/{endpoint.Id}/test", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var delivery = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal("ping", Assert.Single(At(url)).Json.GetProperty("type").GetString());
        Assert.Equal("succeeded", delivery.GetProperty("status").GetString());
        var attempt = Assert.Single(delivery.GetProperty("attempts").EnumerateArray());
        Assert.Equal(200, attempt.GetProperty("statusCode").GetInt32());
        Assert.Equal(1024, attempt.GetProperty("responseBody").GetString()!.Length);
        Assert.True(attempt.GetProperty("durationMs").GetInt64() >= 0);
    }

    [Fact]
    public async Task An_unreachable_endpoint_is_logged_as_refused_and_a_manual_retry_and_a_recovery_send_again()
    {
        Receiver.Respond = _ => (200, null, null);
        var (owner, orgId) = await App.NewOrgAsync();
        // A port nothing listens on: connection refused.
        var endpoint = await owner.CreateEndpointAsync(orgId, new Uri("http://127.0.0.1:9/hook"));
        await App.PublishAsync(orgId);
        await App.DrainDeliveriesAsync();
        var delivery = await owner.SingleDeliveryAsync(orgId, endpoint.Id);
        Assert.Equal("refused", delivery.GetProperty("attempts")[0].GetProperty("errorKind").GetString());
        for (var attempt = 2; attempt <= WebhookRetrySchedule.MaxAttempts; attempt++)
        {
            await fixture.RunNextAttemptAsync(orgId, endpoint.Id, delivery);
            owner = await fixture.SignInAgainAsync(owner);
            delivery = await owner.SingleDeliveryAsync(orgId, endpoint.Id);
        }

        Assert.Equal("failed", delivery.GetProperty("status").GetString());
        Assert.Equal(WebhookRetrySchedule.MaxAttempts, delivery.GetProperty("attempts").GetArrayLength());
        var deliveryId = delivery.GetProperty("id").GetString()!;

        // Point the endpoint at the receiver, then retry by hand.
        var url = NewPath();
        using (var patch = await owner.Client.PatchAsJsonAsync(new Uri($"/api/v1/orgs/{orgId}/webhook-endpoints/{endpoint.Id}", UriKind.Relative), new { url = url.ToString() }))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        }

        using (var retry = await owner.Client.PostAsync(new Uri($"/api/v1/orgs/{orgId}/webhook-endpoints/{endpoint.Id}/deliveries/{deliveryId}/retry", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        }

        await App.DrainDeliveriesAsync();
        Assert.Single(At(url));
        Assert.Equal("succeeded", (await owner.SingleDeliveryAsync(orgId, endpoint.Id)).GetProperty("status").GetString());

        // A recovery re-sends failed messages since a time; this one has succeeded, so a second failing one is made.
        Receiver.Respond = r => r.Path == url.AbsolutePath ? (500, null, null) : (200, null, null);
        var second = await App.PublishAsync(orgId);
        await App.DrainDeliveriesAsync();
        var failing = (await owner.DeliveriesAsync(orgId, endpoint.Id, "pending")).Single();
        for (var attempt = 2; attempt <= WebhookRetrySchedule.MaxAttempts; attempt++)
        {
            await fixture.RunNextAttemptAsync(orgId, endpoint.Id, failing);
            owner = await fixture.SignInAgainAsync(owner);
            failing = (await owner.DeliveriesAsync(orgId, endpoint.Id)).Single(d => d.GetProperty("eventId").GetString() == second.Id);
        }

        Assert.Equal("failed", failing.GetProperty("status").GetString());
        Receiver.Respond = _ => (200, null, null);
        using (var recover = await owner.Client.PostAsJsonAsync(new Uri($"/api/v1/orgs/{orgId}/webhook-endpoints/{endpoint.Id}/recover", UriKind.Relative),
            new { since = fixture.Clock.GetUtcNow().AddDays(-2) }))
        {
            Assert.Equal(HttpStatusCode.Accepted, recover.StatusCode);
        }

        await App.DrainRecoveriesAsync();
        await App.DrainDeliveriesAsync();
        Assert.All(await owner.DeliveriesAsync(orgId, endpoint.Id), d => Assert.Equal("succeeded", d.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task An_ordered_endpoint_gets_one_message_at_a_time_and_a_failing_head_blocks_the_rest()
    {
        var url = NewPath();
        var failing = true;
        Receiver.Respond = r => r.Path == url.AbsolutePath && Volatile.Read(ref failing) ? (500, null, null) : (200, null, null);
        var (owner, orgId) = await App.NewOrgAsync();
        var endpoint = await owner.CreateEndpointAsync(orgId, url, new { ordered = true });

        var first = await App.PublishAsync(orgId);
        fixture.Clock.Advance(TimeSpan.FromMilliseconds(5));
        var second = await App.PublishAsync(orgId);
        fixture.Clock.Advance(TimeSpan.FromMilliseconds(5));
        var third = await App.PublishAsync(orgId);
        await App.DrainDeliveriesAsync();

        Assert.Equal([first.Id], At(url).Select(r => r.Id));

        Volatile.Write(ref failing, false);
        var head = (await owner.DeliveriesAsync(orgId, endpoint.Id)).Single(d => d.GetProperty("eventId").GetString() == first.Id);
        await fixture.RunNextAttemptAsync(orgId, endpoint.Id, head);
        await App.DrainDeliveriesAsync();

        Assert.Equal([first.Id, first.Id, second.Id, third.Id], At(url).Select(r => r.Id));
    }

    private static void AssertDelayWithinJitter(JsonElement delivery, TimeSpan nominal)
    {
        var last = delivery.GetProperty("attempts").EnumerateArray().Last().GetProperty("at").GetDateTimeOffset();
        var next = delivery.GetProperty("nextAttemptAt").GetDateTimeOffset();
        var delay = next - last;
        Assert.True(delay >= nominal * 0.9 - TimeSpan.FromMilliseconds(1) && delay <= nominal * 1.1 + TimeSpan.FromMilliseconds(1), $"Delay {delay} is not within 10 % of {nominal}: {delivery}");
    }
}
