using System.Net;
using System.Text;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Razorpay;

public sealed class WebhookStorageOutageTests
{
    [Fact]
    public async Task A_webhook_arriving_while_storage_is_unreachable_answers_503_with_retry_after_so_Razorpay_delivers_it_again()
    {
        var connection = UnreachableStorage.ConnectionString();

        await using var app = await TestApp.StartAsync(
            new Dictionary<string, string?> { ["Razorpay:WebhookSecret"] = RazorpayTestKit.WebhookSecret },
            storage: connection, hostDrivesTriggers: true, waitUntilReady: false);
        using var client = app.CreateClient();
        client.Timeout = TimeSpan.FromMinutes(2);

        var body = Encoding.UTF8.GetBytes(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 50_000, RazorpayTestKit.NewOrgId()));
        using var response = await client.PostAsync(new Uri("/api/v1/webhooks/razorpay", UriKind.Relative), RazorpayTestKit.SignedBody(body, eventId: RazorpayTestKit.NewId("evt")));

        await response.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "webhook.storage_unavailable");
        Assert.Equal(TimeSpan.FromSeconds(10), response.Headers.RetryAfter?.Delta);
    }
}
