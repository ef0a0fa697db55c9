using System.Net;
using System.Text.Json;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Razorpay;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;

namespace RaptorFlow.Tests.Invoices;

public sealed class DevClosePeriodTests
{
    private static readonly DateTimeOffset MidOctober = new(2030, 10, 14, 9, 0, 0, TimeSpan.Zero);

    private static Uri Route(string orgId) => new($"/api/dev/orgs/{orgId}/close-period", UriKind.Relative);

    private static async Task<JsonElement> CloseAsync(TestUser owner, string orgId)
    {
        using var response = await owner.Client.PostAsync(Route(orgId), null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement;
    }

    [Fact]
    public async Task Closing_the_current_month_twice_issues_one_invoice_with_its_posting_and_payment_link()
    {
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var (owner, orgId) = await world.NewOrgAsync("pro");

        var first = await CloseAsync(owner, orgId);
        var again = await CloseAsync(owner, orgId);

        Assert.Equal(first.GetProperty("id").GetString(), again.GetProperty("id").GetString());
        Assert.Equal(first.GetProperty("number").GetString(), again.GetProperty("number").GetString());
        Assert.StartsWith(world.Series, first.GetProperty("number").GetString(), StringComparison.Ordinal);
        Assert.Equal("issued", first.GetProperty("status").GetString());
        Assert.Equal(new DateTimeOffset(2030, 10, 1, 0, 0, 0, TimeSpan.Zero), first.GetProperty("periodStart").GetDateTimeOffset());
        var total = first.GetProperty("totalMinor").GetInt64();
        Assert.True(total > 0);
        Assert.StartsWith("https://", first.GetProperty("paymentUrl").GetString(), StringComparison.Ordinal);
        Assert.Single(world.LinkRequests());
        Assert.Equal(total, await world.App.BalanceAsync(orgId, Receivable));
        await world.App.AssertLedgerIsConsistentAsync(orgId);

        var book = world.App.Services.GetRequiredService<InvoiceBook>();
        var (invoices, _) = await book.ListAsync(orgId, new RaptorFlow.Functions.Platform.Paging.PageRequest(100, null), CancellationToken.None);
        Assert.Single(invoices);
    }

    [Fact]
    public async Task Without_Razorpay_the_invoice_is_issued_with_no_pay_link_and_left_for_the_next_run_to_finish()
    {
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        world.LinksFail();
        var (owner, orgId) = await world.NewOrgAsync("pro");

        var invoice = await CloseAsync(owner, orgId);

        Assert.Equal("issued", invoice.GetProperty("status").GetString());
        Assert.False(invoice.TryGetProperty("paymentUrl", out _));
        Assert.Equal(invoice.GetProperty("totalMinor").GetInt64(), await world.App.BalanceAsync(orgId, Receivable));
        world.Clock.Advance(BillingIndex.MarkSettleAfter + TimeSpan.FromMinutes(1));
        var pending = new List<string>();
        await foreach (var org in world.App.Services.GetRequiredService<BillingIndex>().PendingOrgsAsync(CancellationToken.None))
        {
            pending.Add(org);
        }

        Assert.Contains(orgId, pending);
    }

    [Fact]
    public async Task The_route_is_absent_while_the_dev_issuer_is_off()
    {
        await using var app = await TestApp.StartAsync();
        using var response = await app.Client.PostAsync(Route("org_01jabcdefghjkmnpqrstvwxyz0"), null);
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "route.not_found");
    }
}
