using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Razorpay;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;

namespace RaptorFlow.Tests.Invoices;

public sealed class InvoicesApiTests
{
    private static readonly DateTimeOffset MidOctober = new(2030, 10, 14, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset NovemberRun = new(2030, 11, 1, 0, 30, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_signed_payment_captured_webhook_marks_the_invoice_paid_once()
    {
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var (owner, orgId) = await world.NewOrgAsync("pro");
        world.Clock.SetUtcNow(NovemberRun);
        var invoice = await world.CloseAsync(orgId);
        owner = await world.AgainAsync(owner);
        Assert.Equal(353_882, invoice.TotalMinor);

        var paymentId = RazorpayTestKit.NewId("pay");
        var captured = RazorpayTestKit.Captured(paymentId, invoice.TotalMinor, orgId, invoiceId: invoice.InvoiceId);
        await world.App.DeliverAndProcessAsync(captured, RazorpayTestKit.NewId("evt"));
        await world.App.DeliverAndProcessAsync(captured, RazorpayTestKit.NewId("evt")); // the same payment again, as a new event

        var paid = await world.GetInvoiceAsync(owner, orgId, invoice.InvoiceId);
        Assert.Equal("paid", paid.GetProperty("status").GetString());
        Assert.Equal(353_882, paid.GetProperty("amountPaidMinor").GetInt64());
        Assert.Equal(0, paid.GetProperty("amountDueMinor").GetInt64());
        Assert.False(paid.TryGetProperty("paymentUrl", out _)); // null values are omitted
        Assert.Equal(0, await world.App.BalanceAsync(orgId, Receivable));
        Assert.Equal(353_882, await world.App.BalanceAsync(orgId, RazorpayClearing));
        Assert.Equal(0, await world.App.BalanceAsync(orgId, CustomerCredit));
        await world.App.AssertLedgerIsConsistentAsync(orgId);
        Assert.Null(await world.App.Services.GetRequiredService<IInvoiceSettlement>().FindOpenInvoiceAsync(orgId, invoice.InvoiceId, CancellationToken.None));

        using var voidPaid = await owner.Client.PostAsync(new Uri($"/api/v1/orgs/{orgId}/invoices/{invoice.InvoiceId}/void", UriKind.Relative), null);
        await voidPaid.ShouldBeProblemAsync(HttpStatusCode.Conflict, "invoice.paid");
    }

    [Fact]
    public async Task A_payment_naming_another_orgs_invoice_settles_nothing()
    {
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var (owner, orgId) = await world.NewOrgAsync("pro");
        var (_, otherOrg) = await world.NewOrgAsync("pro");
        world.Clock.SetUtcNow(NovemberRun);
        var invoice = await world.CloseAsync(orgId);
        owner = await world.AgainAsync(owner);

        await world.App.DeliverAndProcessAsync(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 353_882, otherOrg, invoiceId: invoice.InvoiceId), RazorpayTestKit.NewId("evt"));

        Assert.Equal("issued", (await world.GetInvoiceAsync(owner, orgId, invoice.InvoiceId)).GetProperty("status").GetString());
        Assert.Equal(353_882, await world.App.BalanceAsync(otherOrg, CustomerCredit));
    }

    [Fact]
    public async Task Voiding_reverses_the_posting_and_is_idempotent()
    {
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var (owner, orgId) = await world.NewOrgAsync("pro");
        world.Clock.SetUtcNow(NovemberRun);
        var invoice = await world.CloseAsync(orgId);
        owner = await world.AgainAsync(owner);
        Assert.Equal(353_882, await world.App.BalanceAsync(orgId, Receivable));

        var viewer = await world.App.SignInAsync(email: $"{Guid.NewGuid():N}@example.test");
        await owner.AddMemberAsync(orgId, viewer, "viewer");
        using (var forbidden = await viewer.Client.PostAsync(new Uri($"/api/v1/orgs/{orgId}/invoices/{invoice.InvoiceId}/void", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"/api/v1/orgs/{orgId}/invoices/{invoice.InvoiceId}/void", UriKind.Relative))
        {
            Content = JsonContent.Create(new { reason = "Billed on the wrong plan" }),
        };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        using var voided = await owner.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, voided.StatusCode);
        var body = await voided.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("void", body.GetProperty("status").GetString());
        Assert.Equal("Billed on the wrong plan", body.GetProperty("voidReason").GetString());
        Assert.Equal(0, body.GetProperty("amountDueMinor").GetInt64());

        using var again = await owner.Client.PostAsync(new Uri($"/api/v1/orgs/{orgId}/invoices/{invoice.InvoiceId}/void", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);

        Assert.Equal(0, await world.App.BalanceAsync(orgId, Receivable));
        Assert.Equal(0, await world.App.BalanceAsync(orgId, Revenue));
        Assert.Equal(0, await world.App.BalanceAsync(orgId, GstPayable));
        await world.App.AssertLedgerIsConsistentAsync(orgId);

        // A rerun after the void neither re-posts nor re-issues, and a payment for it is credited, not settled.
        world.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(invoice.InvoiceId, (await world.CloseAsync(orgId)).InvoiceId);
        Assert.Equal(0, await world.App.BalanceAsync(orgId, Receivable));
        Assert.Null(await world.App.Services.GetRequiredService<IInvoiceSettlement>().FindOpenInvoiceAsync(orgId, invoice.InvoiceId, CancellationToken.None));
        var audit = await world.App.Services.GetRequiredService<RaptorFlow.Functions.Audit.AuditLog>().Table
            .QueryAsync<RaptorFlow.Functions.Audit.AuditEventRow>(e => e.PartitionKey == orgId).ToListAsync();
        Assert.Contains(audit, e => e.Action == "invoice.issued" && e.TargetId == invoice.InvoiceId);
        Assert.Single(audit, e => e.Action == "invoice.voided" && e.TargetId == invoice.InvoiceId);
    }

    [Fact]
    public async Task Bad_void_requests_change_nothing()
    {
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var (owner, orgId) = await world.NewOrgAsync("pro");
        world.Clock.SetUtcNow(NovemberRun);
        var invoice = await world.CloseAsync(orgId);
        owner = await world.AgainAsync(owner);
        var path = new Uri($"/api/v1/orgs/{orgId}/invoices/{invoice.InvoiceId}/void", UriKind.Relative);

        using (var tooLong = await owner.Client.PostAsJsonAsync(path, new { reason = new string('x', 501) }))
        {
            await tooLong.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
        }

        using (var wrongType = await owner.Client.PostAsync(path, new StringContent("""{"reason": 42}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        }

        using (var malformed = await owner.Client.PostAsync(path, new StringContent("{\"reason\":", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        }

        Assert.Equal("issued", (await world.GetInvoiceAsync(owner, orgId, invoice.InvoiceId)).GetProperty("status").GetString());
        Assert.Equal(353_882, await world.App.BalanceAsync(orgId, Receivable));
    }

    [Fact]
    public async Task Another_orgs_invoice_and_malformed_ids_answer_404()
    {
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var (owner, orgId) = await world.NewOrgAsync("pro");
        var (otherOwner, otherOrg) = await world.NewOrgAsync("pro");
        world.Clock.SetUtcNow(NovemberRun);
        var invoice = await world.CloseAsync(orgId);
        owner = await world.AgainAsync(owner);
        otherOwner = await world.AgainAsync(otherOwner);

        foreach (var path in new[]
        {
            $"/api/v1/orgs/{otherOrg}/invoices/{invoice.InvoiceId}",
            $"/api/v1/orgs/{otherOrg}/invoices/{invoice.InvoiceId}.html",
            $"/api/v1/orgs/{orgId}/invoices/bill_nope",
            $"/api/v1/orgs/{orgId}/invoices/{Uri.EscapeDataString("bill_' or 1 eq 1")}",
            $"/api/v1/orgs/{orgId}/invoices/{RaptorFlow.Functions.Platform.Ids.IdGenerator.NewSortableId(DateTimeOffset.UtcNow)}",
        })
        {
            var client = path.Contains(otherOrg, StringComparison.Ordinal) ? otherOwner.Client : owner.Client;
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "invoice.not_found");
        }

        using (var stranger = await otherOwner.Client.GetAsync(new Uri($"/api/v1/orgs/{orgId}/invoices/{invoice.InvoiceId}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, stranger.StatusCode);
        }

        using var voidOther = await otherOwner.Client.PostAsync(new Uri($"/api/v1/orgs/{otherOrg}/invoices/{invoice.InvoiceId}/void", UriKind.Relative), null);
        await voidOther.ShouldBeProblemAsync(HttpStatusCode.NotFound, "invoice.not_found");
        Assert.Equal("issued", (await world.GetInvoiceAsync(owner, orgId, invoice.InvoiceId)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Invoices_are_listed_newest_first_with_cursor_paging()
    {
        await using var world = await InvoiceWorld.StartAsync(new DateTimeOffset(2030, 7, 20, 0, 0, 0, TimeSpan.Zero));
        var (owner, orgId) = await world.NewOrgAsync("pro");
        var issued = new List<string>();
        foreach (var month in new[] { 8, 9, 10 })
        {
            world.Clock.SetUtcNow(new DateTimeOffset(2030, month, 1, 0, 30, 0, TimeSpan.Zero));
            issued.Add((await world.CloseAsync(orgId)).InvoiceId);
        }

        owner = await world.AgainAsync(owner);
        using var first = await owner.Client.GetAsync(new Uri($"/api/v1/orgs/{orgId}/invoices?limit=2", UriKind.Relative));
        var page1 = await first.Content.ReadFromJsonAsync<JsonElement>();
        var cursor = page1.GetProperty("nextCursor").GetString();
        Assert.NotNull(cursor);
        using var second = await owner.Client.GetAsync(new Uri($"/api/v1/orgs/{orgId}/invoices?limit=2&cursor={Uri.EscapeDataString(cursor)}", UriKind.Relative));
        var page2 = await second.Content.ReadFromJsonAsync<JsonElement>();

        var listed = page1.GetProperty("data").EnumerateArray().Concat(page2.GetProperty("data").EnumerateArray()).Select(i => i.GetProperty("id").GetString()!).ToList();
        Assert.Equal(Enumerable.Reverse(issued).ToList(), listed);
        Assert.Equal(
            [$"{world.Series}/2030-31/000003", $"{world.Series}/2030-31/000002", $"{world.Series}/2030-31/000001"],
            page1.GetProperty("data").EnumerateArray().Concat(page2.GetProperty("data").EnumerateArray()).Select(i => i.GetProperty("number").GetString()));

        using var badLimit = await owner.Client.GetAsync(new Uri($"/api/v1/orgs/{orgId}/invoices?limit=0", UriKind.Relative));
        await badLimit.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
    }

    [Fact]
    public async Task The_printable_html_is_escaped_and_allows_inline_style_only()
    {
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var (owner, orgId) = await world.NewOrgAsync("pro", name: "<script>alert(1)</script> & Sons \u0928\u092e\u0938\u094d\u0924\u0947");
        world.Usage.Totals[orgId] = new() { ["api_calls"] = 1_234_567 };
        world.Clock.SetUtcNow(NovemberRun);
        var invoice = await world.CloseAsync(orgId);
        owner = await world.AgainAsync(owner);

        using var response = await owner.Client.GetAsync(new Uri($"/api/v1/orgs/{orgId}/invoices/{invoice.InvoiceId}.html", UriKind.Relative));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(InvoiceHtml.ContentSecurityPolicy, string.Join(";", response.Headers.GetValues("Content-Security-Policy")));
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Sons", html, StringComparison.Ordinal);
        Assert.Contains(invoice.Number!, html, StringComparison.Ordinal);
        Assert.Contains("INR 4,954.82", html, StringComparison.Ordinal);
        Assert.Contains("INR 755.82", html, StringComparison.Ordinal);
        Assert.Contains("29ABCDE1234F1Z5", html, StringComparison.Ordinal);
    }
}
