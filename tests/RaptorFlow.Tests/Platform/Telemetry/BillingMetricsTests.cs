using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Invoices;

namespace RaptorFlow.Tests.Platform.Telemetry;

/// <summary>The billing instruments move when an org's month closes into an invoice.</summary>
public sealed class BillingMetricsTests
{
    private static readonly DateTimeOffset MidOctober = new(2030, 10, 14, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset NovemberRun = new(2030, 11, 1, 0, 30, 0, TimeSpan.Zero);

    [Fact]
    public async Task Issuing_an_invoice_counts_it_its_amount_and_its_payment_link()
    {
        using var metrics = new MetricRecorder();
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var (_, orgId) = await world.NewOrgAsync("pro");
        world.Usage.Totals[orgId] = new() { ["api_calls"] = 1_234_567 };
        world.Clock.SetUtcNow(NovemberRun);

        var invoice = await world.CloseAsync(orgId);

        Assert.Equal(495_482, invoice.TotalMinor);
        Assert.True(metrics.Sum("raptorflow.invoices.issued", ("currency", "INR")) >= 1);
        Assert.True(metrics.Sum("raptorflow.billing.invoiced", ("currency", "INR")) >= 495_482);
        Assert.True(metrics.Sum("raptorflow.payment_links", ("outcome", "created")) >= 1);
    }

    [Fact]
    public async Task A_payment_link_razorpay_could_not_make_is_counted_as_failed()
    {
        using var metrics = new MetricRecorder();
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var (_, orgId) = await world.NewOrgAsync("pro");
        world.LinksFail();
        world.Clock.SetUtcNow(NovemberRun);

        var invoice = await world.CloseAsync(orgId);

        Assert.True(invoice.Pending);
        Assert.True(metrics.Sum("raptorflow.payment_links", ("outcome", "failed")) >= 1);
    }

    [Fact]
    public async Task A_close_that_fails_is_counted_and_reported_to_the_host_as_failed()
    {
        using var metrics = new MetricRecorder();
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var (_, orgId) = await world.NewOrgAsync("pro");
        world.Usage.Unreadable[orgId] = true;
        world.Clock.SetUtcNow(NovemberRun);

        var message = System.Text.Json.JsonSerializer.Serialize(new { orgId, periodStart = new DateTimeOffset(2030, 10, 1, 0, 0, 0, TimeSpan.Zero) });
        using var response = await world.App.InvokeAsync(RaptorFlow.Functions.Invoices.CloseOrgPeriod.FunctionName, HostInvocations.QueueTextEnvelope(message));

        Assert.NotEqual(RaptorFlow.Functions.Hosting.FunctionInvocationApi.SuccessBody, await response.Content.ReadAsStringAsync());
        Assert.True(metrics.Sum("raptorflow.invoices.close_failures", ("stage", "close")) >= 1);
    }
}
