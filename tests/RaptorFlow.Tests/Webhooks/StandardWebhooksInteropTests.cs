using RaptorFlow.Functions.Events;
using RaptorFlow.Tests.Fixtures;
using StandardWebhooks;

namespace RaptorFlow.Tests.Webhooks;

/// <summary>
/// Deliveries pass the reference library's full verification (signature and timestamp tolerance
/// against the real clock), so this class's clock is never moved.
/// </summary>
public sealed class StandardWebhooksInteropTests(WebhookApp fixture) : IClassFixture<WebhookApp>
{
    [Fact]
    public async Task Every_event_type_arrives_and_verifies_with_the_reference_library()
    {
        var app = fixture.App;
        var url = fixture.Receiver.Path("/interop/" + Guid.NewGuid().ToString("N"));
        fixture.Receiver.Respond = _ => (200, null, null);
        var (owner, orgId) = await app.NewOrgAsync();
        var endpoint = await owner.CreateEndpointAsync(orgId, url);

        var types = RaptorFlow.Functions.Webhooks.WebhookEndpointsApi.KnownEventTypes.Order(StringComparer.Ordinal).ToList();
        var published = new List<DomainEvent>();
        foreach (var type in types)
        {
            fixture.Clock.SetUtcNow(DateTimeOffset.UtcNow);
            published.Add(await app.PublishAsync(orgId, type));
        }

        await app.DrainDeliveriesAsync();

        var received = fixture.Receiver.Received.Where(r => r.Path == url.AbsolutePath).ToList();
        Assert.Equal(published.Select(e => e.Id).Order(StringComparer.Ordinal), received.Select(r => r.Id).Order(StringComparer.Ordinal));
        var verifier = new StandardWebhook(endpoint.Secret);
        foreach (var webhook in received)
        {
            verifier.Verify(webhook.Body, webhook.Headers);
        }

        Assert.Throws<StandardWebhooks.Diagnostics.WebhookVerificationException>(() =>
            new StandardWebhook(RaptorFlow.Functions.Webhooks.WebhookSecrets.Issue()).Verify(received[0].Body, received[0].Headers));
    }
}
