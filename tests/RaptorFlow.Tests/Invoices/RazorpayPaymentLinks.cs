using System.Text.Json;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace RaptorFlow.Tests.Invoices;

/// <summary>Razorpay's payment-links endpoint on WireMock: answers like Razorpay and keeps what it was asked.</summary>
public static class RazorpayPaymentLinks
{
    public const string Path = "/v1/payment_links";

    /// <summary>Every <c>POST /v1/payment_links</c> creates a link echoing the amount, currency and notes.</summary>
    public static void Succeed(WireMockServer razorpay)
    {
        razorpay.Given(Request.Create().WithPath(Path).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                .WithBody(request =>
                {
                    using var body = JsonDocument.Parse(request.Body!);
                    var id = "plink_" + Guid.NewGuid().ToString("N")[..14];
                    return JsonSerializer.Serialize(new
                    {
                        id,
                        amount = body.RootElement.GetProperty("amount").GetInt64(),
                        currency = body.RootElement.GetProperty("currency").GetString(),
                        status = "created",
                        short_url = $"https://rzp.io/i/{id[6..]}",
                        reference_id = (string?)null,
                        notes = body.RootElement.GetProperty("notes"),
                    });
                }));
    }

    /// <summary>The bodies of the payment-link requests Razorpay received.</summary>
    public static IReadOnlyList<JsonElement> Requests(WireMockServer razorpay) =>
        razorpay.LogEntries.Where(e => e.RequestMessage.Path == Path)
            .Select(e => JsonDocument.Parse(e.RequestMessage.Body!).RootElement.Clone()).ToList();
}
