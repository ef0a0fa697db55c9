using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Types;
using WireMock.Util;

namespace RaptorFlow.Tests.Invoices;

/// <summary>
/// Razorpay's payment-links API on WireMock, answering as Razorpay does: create (a second link with
/// one <c>reference_id</c> is refused with 400), fetch by <c>reference_id</c>, and cancel (400 unless
/// the link is <c>created</c>). Keeps what it was asked.
/// </summary>
public static class RazorpayPaymentLinks
{
    public const string Path = "/v1/payment_links";

    /// <summary>Links by id, per server: what Razorpay holds.</summary>
    private static readonly ConditionalWeakTable<WireMockServer, ConcurrentDictionary<string, Link>> Held = new();

    public sealed record Link(string Id, long Amount, string Currency, string? ReferenceId, JsonElement Notes)
    {
        public string Status { get; set; } = "created";
    }

    public static IReadOnlyCollection<Link> Links(WireMockServer razorpay) => Held.GetOrCreateValue(razorpay).Values.ToList();

    /// <summary>
    /// Every <c>POST /v1/payment_links</c> creates a link echoing the amount, currency, reference and
    /// notes; the first <paramref name="lostAnswers"/> creations are carried out but answered 504, as
    /// when the answer is lost on its way back.
    /// </summary>
    public static void Succeed(WireMockServer razorpay, int lostAnswers = 0)
    {
        var links = Held.GetOrCreateValue(razorpay);
        var lost = lostAnswers;
        razorpay.Given(Request.Create().WithPath(Path).UsingPost())
            .RespondWith(Response.Create().WithCallback(request =>
            {
                using var body = JsonDocument.Parse(request.Body!);
                var root = body.RootElement;
                var reference = root.TryGetProperty("reference_id", out var r) ? r.GetString() : null;
                lock (links)
                {
                    if (reference is not null && links.Values.Any(l => l.ReferenceId == reference))
                    {
                        return Answer(400, new
                        {
                            error = new { code = "BAD_REQUEST_ERROR", description = $"Payment Link with reference id {reference} already exists", field = "reference_id", source = "business", step = "payment_initiation", reason = "input_validation_failed" },
                        });
                    }

                    var id = "plink_" + Guid.NewGuid().ToString("N")[..14];
                    var link = new Link(id, root.GetProperty("amount").GetInt64(), root.GetProperty("currency").GetString()!, reference,
                        root.TryGetProperty("notes", out var notes) ? notes.Clone() : JsonDocument.Parse("{}").RootElement);
                    links[id] = link;
                    return lost-- > 0
                        ? Answer(504, new { error = new { code = "GATEWAY_ERROR", description = "Gateway timed out." } })
                        : Answer(200, Entity(link));
                }
            }));
        razorpay.Given(Request.Create().WithPath(Path).UsingGet())
            .RespondWith(Response.Create().WithCallback(request =>
            {
                var reference = request.Query is { } query && query.TryGetValue("reference_id", out var values) ? values.FirstOrDefault() : null;
                var found = links.Values.Where(l => reference is null || l.ReferenceId == reference).Select(Entity).ToList();
                return Answer(200, new { count = found.Count, payment_links = found });
            }));
        razorpay.Given(Request.Create().WithPath(new WireMock.Matchers.RegexMatcher("^/v1/payment_links/plink_[a-z0-9]+/cancel$")).UsingPost())
            .RespondWith(Response.Create().WithCallback(request =>
            {
                var id = request.Path.Split('/')[^2];
                lock (links)
                {
                    if (!links.TryGetValue(id, out var link))
                    {
                        return Answer(400, new { error = new { code = "BAD_REQUEST_ERROR", description = "The id provided does not exist" } });
                    }

                    if (link.Status != "created")
                    {
                        return Answer(400, new { error = new { code = "BAD_REQUEST_ERROR", description = $"Payment Link cannot be cancelled in {link.Status} state" } });
                    }

                    link.Status = "cancelled";
                    return Answer(200, Entity(link));
                }
            }));
    }

    /// <summary>Marks a link paid, as a customer paying it would.</summary>
    public static void Pay(WireMockServer razorpay, string linkId) => Held.GetOrCreateValue(razorpay)[linkId].Status = "paid";

    /// <summary>The bodies of the payment-link creations Razorpay received.</summary>
    public static IReadOnlyList<JsonElement> Requests(WireMockServer razorpay) =>
        razorpay.LogEntries.Where(e => e.RequestMessage.Path == Path && e.RequestMessage.Method == "POST")
            .Select(e => JsonDocument.Parse(e.RequestMessage.Body!).RootElement.Clone()).ToList();

    /// <summary>The ids of the links Razorpay was asked to cancel.</summary>
    public static IReadOnlyList<string> Cancels(WireMockServer razorpay) =>
        razorpay.LogEntries.Where(e => e.RequestMessage.Path.EndsWith("/cancel", StringComparison.Ordinal))
            .Select(e => e.RequestMessage.Path.Split('/')[^2]).ToList();

    private static object Entity(Link link) => new
    {
        id = link.Id,
        amount = link.Amount,
        currency = link.Currency,
        status = link.Status,
        short_url = $"https://rzp.io/i/{link.Id[6..]}",
        reference_id = link.ReferenceId,
        notes = link.Notes,
    };

    private static ResponseMessage Answer(int status, object body) => new()
    {
        StatusCode = status,
        Headers = new Dictionary<string, WireMockList<string>> { ["Content-Type"] = new("application/json") },
        BodyData = new BodyData { DetectedBodyType = BodyType.String, BodyAsString = JsonSerializer.Serialize(body) },
    };
}
