using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>
/// Razorpay's payment-links create on a loopback port, answering at once as Razorpay does (one link
/// per <c>reference_id</c>): the invoice scale curve times the app's close, not a fake's bookkeeping,
/// so links are held in a dictionary by reference rather than scanned.
/// </summary>
public sealed class RazorpayLinkStub : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, string> _linksByReference = new(StringComparer.Ordinal);

    private RazorpayLinkStub(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    /// <summary>What the app's <c>Razorpay:BaseUrl</c> is set to.</summary>
    public Uri BaseUrl { get; }

    public int Links => _linksByReference.Count;

    public static async Task<RazorpayLinkStub> StartAsync()
    {
        var port = LocalAzurite.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        var app = builder.Build();
        var stub = new RazorpayLinkStub(app, new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/v1/"));
        app.MapPost("/v1/payment_links", stub.CreateAsync);
        app.MapGet("/v1/payment_links", (string? reference_id) =>
            Results.Json(new JsonObject
            {
                ["count"] = reference_id is not null && stub._linksByReference.ContainsKey(reference_id) ? 1 : 0,
                ["payment_links"] = new JsonArray(),
            }));
        await app.StartAsync();
        return stub;
    }

    private async Task<IResult> CreateAsync(HttpRequest request)
    {
        var body = await JsonNode.ParseAsync(request.Body) as JsonObject ?? [];
        var reference = body["reference_id"]?.GetValue<string>() ?? Guid.NewGuid().ToString("N");
        var id = "plink_" + Guid.NewGuid().ToString("N")[..14];
        if (!_linksByReference.TryAdd(reference, id))
        {
            return Results.Json(new JsonObject
            {
                ["error"] = new JsonObject { ["code"] = "BAD_REQUEST_ERROR", ["description"] = $"Payment Link with reference id {reference} already exists" },
            }, statusCode: StatusCodes.Status400BadRequest);
        }

        return Results.Json(new JsonObject
        {
            ["id"] = id,
            ["amount"] = body["amount"]?.GetValue<long>() ?? 0,
            ["currency"] = body["currency"]?.GetValue<string>() ?? "INR",
            ["status"] = "created",
            ["short_url"] = $"https://rzp.io/i/{id}",
            ["reference_id"] = reference,
        });
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
