using System.Net;
using System.Net.Http.Json;
using System.Text;
using Azure.Data.Tables;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Razorpay;

public sealed class WebhookIngestTests(RazorpayAppFixture fixture) : IClassFixture<RazorpayAppFixture>
{
    private static readonly Uri Webhook = new("/api/v1/webhooks/razorpay", UriKind.Relative);

    private TestApp App => fixture.App;

    private async Task<bool> InboxHasAsync(string eventId) => await App.InboxAsync(eventId) is not null;

    [Fact]
    public async Task Correctly_signed_event_is_stored_and_acknowledged()
    {
        var eventId = RazorpayTestKit.NewId("evt");
        using var response = await App.DeliverAsync(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 1000, null), eventId);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var accepted = await response.Content.ReadFromJsonAsync<WebhookAccepted>();
        Assert.Equal(eventId, accepted!.EventId);
        Assert.False(accepted.Duplicate);
        var stored = await App.InboxAsync(eventId);
        Assert.Equal("payment.captured", stored!.Event);
    }

    [Fact]
    public async Task Signed_event_with_a_repeated_key_is_still_stored_and_acknowledged()
    {
        // Request bodies refuse repeated properties; a signed Razorpay event is not refused for one,
        // since the signature covers the raw bytes and a refusal would make Razorpay retry and disable the hook.
        var eventId = RazorpayTestKit.NewId("evt");
        var body = "{\"entity\":\"event\",\"entity\":\"event\"," + RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 1000, null)[1..];
        using var response = await App.DeliverAsync(body, eventId);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("payment.captured", (await App.InboxAsync(eventId))!.Event);
    }

    [Fact]
    public async Task Body_changed_by_one_byte_after_signing_is_401_and_stores_nothing()
    {
        var eventId = RazorpayTestKit.NewId("evt");
        var body = Encoding.UTF8.GetBytes(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 1000, null));
        var signature = WebhookSignature.Sign(RazorpayTestKit.WebhookSecret, body);
        body[body.Length / 2] ^= 0x01;
        using var content = new ByteArrayContent(body);
        content.Headers.Add("X-Razorpay-Signature", signature);
        content.Headers.Add("x-razorpay-event-id", eventId);

        using var response = await App.Client.PostAsync(Webhook, content);

        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "webhook.signature_invalid");
        Assert.False(await InboxHasAsync(eventId));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-hex")]
    [InlineData("00")]
    public async Task Missing_or_malformed_signature_is_401_and_stores_nothing(string? signature)
    {
        var eventId = RazorpayTestKit.NewId("evt");
        using var content = new StringContent(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 1000, null), Encoding.UTF8, "application/json");
        content.Headers.Add("x-razorpay-event-id", eventId);
        if (signature is not null)
        {
            content.Headers.Add("X-Razorpay-Signature", signature);
        }

        using var response = await App.Client.PostAsync(Webhook, content);

        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "webhook.signature_invalid");
        Assert.False(await InboxHasAsync(eventId));
    }

    [Fact]
    public async Task Signature_made_with_another_secret_is_401()
    {
        var eventId = RazorpayTestKit.NewId("evt");
        using var response = await App.DeliverAsync(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 1000, null), eventId, secret: "whsec_someone_else");

        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "webhook.signature_invalid");
        Assert.False(await InboxHasAsync(eventId));
    }

    [Theory]
    [InlineData("not json at all", "webhook.malformed_json")]
    [InlineData("{\"event\": \"payment.captured\", ", "webhook.malformed_json")]
    [InlineData("{\"payload\": {}}", "webhook.invalid_event")]
    [InlineData("{\"event\": \"payment.captured\"}", "webhook.invalid_event")]
    [InlineData("{\"event\": 42, \"payload\": {}}", "webhook.invalid_event")]
    [InlineData("[1, 2, 3]", "webhook.invalid_event")]
    public async Task Signed_body_that_is_not_an_event_is_400_and_stores_nothing(string body, string code)
    {
        var eventId = RazorpayTestKit.NewId("evt");
        using var response = await App.DeliverAsync(body, eventId);

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, code);
        Assert.False(await InboxHasAsync(eventId));
    }

    [Fact]
    public async Task Event_id_header_that_is_not_a_safe_key_is_400()
    {
        using var response = await App.DeliverAsync(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 1000, null), "evt/../../x");

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
    }

    [Fact]
    public async Task Body_over_one_mebibyte_is_413()
    {
        var body = new byte[(1024 * 1024) + 1];
        body.AsSpan().Fill((byte)' ');
        using var response = await App.Client.PostAsync(Webhook, RazorpayTestKit.SignedBody(body, eventId: RazorpayTestKit.NewId("evt")));

        await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "request.body_too_large");
    }

    [Fact]
    public async Task Large_event_under_the_limit_is_stored_whole_and_processed()
    {
        var eventId = RazorpayTestKit.NewId("evt");
        var padding = new string('x', 200 * 1024);
        var body = RazorpayTestKit.Event("payment.authorized", ("payment", RazorpayTestKit.Payment(RazorpayTestKit.NewId("pay"), 100, null, status: "authorized")))
            .Replace("\"method\":\"upi\"", $"\"method\":\"upi\",\"description\":\"{padding}\"", StringComparison.Ordinal);

        await App.DeliverAndProcessAsync(body, eventId);

        Assert.Equal(InboxStatus.Ignored, (await App.InboxAsync(eventId))!.Status);
    }

    [Fact]
    public async Task Redelivering_one_event_ten_times_stores_it_once_and_acknowledges_each()
    {
        var eventId = RazorpayTestKit.NewId("evt");
        var body = RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 1000, null);

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => App.DeliverAsync(body, eventId)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var accepted = await Task.WhenAll(responses.Select(r => r.Content.ReadFromJsonAsync<WebhookAccepted>()));
        Assert.Single(accepted, a => !a!.Duplicate);
        var rows = App.Storage.Table(App.Services.GetRequiredService<RazorpayInboxTable>().Name).QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {eventId}"));
        Assert.Equal(1, await rows.CountAsync());
    }

    [Fact]
    public async Task Event_without_an_id_header_is_keyed_by_a_hash_of_its_bytes()
    {
        var body = Encoding.UTF8.GetBytes(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 1000, null));
        using var first = await App.Client.PostAsync(Webhook, RazorpayTestKit.SignedBody(body));
        using var second = await App.Client.PostAsync(Webhook, RazorpayTestKit.SignedBody(body));

        var a = await first.Content.ReadFromJsonAsync<WebhookAccepted>();
        var b = await second.Content.ReadFromJsonAsync<WebhookAccepted>();
        Assert.StartsWith("sha256_", a!.EventId);
        Assert.Equal(a.EventId, b!.EventId);
        Assert.True(b.Duplicate);
    }
}
