using System.Net;
using System.Text.Json;
using Azure.Storage.Queues;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Platform.Telemetry;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Invoices;

/// <summary>
/// GenerateInvoices fans out: the timer enqueues one CloseOrgPeriod message per org the billing index
/// lists as due, and the queue function closes that one org's month. Each test bills in a month of
/// 2028 (or 2029 on its own storage) that no other test bills in.
/// </summary>
public sealed class CloseOrgPeriodTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static DateTimeOffset Utc(int year, int month, int day, int hour = 0, int minute = 0) =>
        new(year, month, day, hour, minute, 0, TimeSpan.Zero);

    [Fact]
    public async Task The_timer_enqueues_one_close_per_due_org_and_none_for_an_org_created_after_the_period_ended()
    {
        await using var world = await InvoiceWorld.StartAsync(Utc(2028, 2, 10));
        var due = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            due.Add((await world.NewOrgAsync("pro")).OrgId);
        }

        world.Clock.SetUtcNow(Utc(2028, 3, 1, 0, 10));
        var (_, late) = await world.NewOrgAsync("pro");
        world.Clock.SetUtcNow(Utc(2028, 3, 1, 0, 30));

        await InvokeTimerAsync(world);
        var received = await ReceiveAllAsync(world);
        var messages = received.Select(m => m.Message).ToList();

        Assert.Equal(due.Order(), messages.Where(m => due.Contains(m.OrgId) || m.OrgId == late).Select(m => m.OrgId).Order());
        Assert.All(messages.Where(m => due.Contains(m.OrgId)), m => Assert.Equal(Utc(2028, 2, 1), m.PeriodStart));

        foreach (var (text, _) in received)
        {
            using var response = await world.App.InvokeAsync(CloseOrgPeriod.FunctionName, HostInvocations.QueueTextEnvelope(text));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var book = world.App.Services.GetRequiredService<InvoiceBook>();
        foreach (var orgId in due)
        {
            Assert.NotNull(await book.FindPeriodAsync(orgId, Utc(2028, 2, 1), CancellationToken.None));
        }

        Assert.Null(await book.FindPeriodAsync(late, Utc(2028, 2, 1), CancellationToken.None));

        // Closed orgs leave the month's index partition: the next day's run enqueues none of them.
        world.Clock.SetUtcNow(Utc(2028, 3, 2, 0, 30));
        await InvokeTimerAsync(world);
        Assert.DoesNotContain(await world.App.DrainQueueAsync(CloseOrgPeriod.FunctionName), t => due.Any(t.Contains));
    }

    [Fact]
    public async Task A_close_delivered_three_times_at_once_and_once_more_later_issues_one_invoice_and_numbers_stay_gap_free()
    {
        await using var world = await InvoiceWorld.StartAsync(Utc(2028, 4, 10));
        var orgs = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            orgs.Add((await world.NewOrgAsync(i == 1 ? null : "pro")).OrgId);
        }

        world.Clock.SetUtcNow(Utc(2028, 5, 1, 0, 30));
        await InvokeTimerAsync(world);
        var received = await ReceiveAllAsync(world);
        var ours = received.Where(r => orgs.Contains(r.Message.OrgId)).ToList();
        Assert.Equal(orgs.Count, ours.Count);

        // The host may deliver a message more than once, on several instances at the same moment.
        var deliveries = ours.SelectMany(r => Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            using var response = await world.App.InvokeAsync(CloseOrgPeriod.FunctionName, HostInvocations.QueueTextEnvelope(r.Text));
            return response.StatusCode;
        })));
        Assert.All(await Task.WhenAll(deliveries), status => Assert.Equal(HttpStatusCode.OK, status));

        // And once more the next day, long after the others finished (a message that reappeared after its visibility timeout).
        world.Clock.SetUtcNow(Utc(2028, 5, 2, 0, 30));
        foreach (var (text, _) in ours)
        {
            using var late = await world.App.InvokeAsync(CloseOrgPeriod.FunctionName, HostInvocations.QueueTextEnvelope(text));
            Assert.Equal(HttpStatusCode.OK, late.StatusCode);
        }

        var taken = await world.App.Services.GetRequiredService<InvoiceNumbering>().TakenAsync(world.Series, "2028-29", CancellationToken.None);
        Assert.Equal([1L, 2L, 3L], taken.Select(t => t.Sequence));
        Assert.Equal(orgs.Order(), taken.Select(t => t.OrgId).Order());
        var book = world.App.Services.GetRequiredService<InvoiceBook>();
        foreach (var orgId in orgs)
        {
            var period = await book.FindPeriodAsync(orgId, Utc(2028, 4, 1), CancellationToken.None);
            Assert.Equal(Assert.Single(taken, t => t.OrgId == orgId).InvoiceId, period!.InvoiceId);
        }
    }

    [Fact]
    public async Task Each_close_is_one_operation_tagged_with_its_org_under_its_invocation_and_its_log_lines_carry_the_org()
    {
        using var activities = new ActivityRecorder();
        var logs = new LogCapture();
        await using var world = await InvoiceWorld.StartAsync(Utc(2028, 10, 10), logs: logs);
        var orgs = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            orgs.Add((await world.NewOrgAsync("pro")).OrgId);
        }

        world.Clock.SetUtcNow(Utc(2028, 11, 1, 0, 30));
        await InvokeTimerAsync(world);
        foreach (var (text, _) in (await ReceiveAllAsync(world)).Where(r => orgs.Contains(r.Message.OrgId)))
        {
            using var response = await world.App.InvokeAsync(CloseOrgPeriod.FunctionName, HostInvocations.QueueTextEnvelope(text));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        foreach (var orgId in orgs)
        {
            var unit = Assert.Single(activities.Named("close org period", UnitOfWork.OrgIdTag, orgId));
            Assert.Equal($"function {CloseOrgPeriod.FunctionName}", unit.Parent?.OperationName);
            Assert.Contains(logs.Lines, l => l.Category == typeof(CloseOrgPeriod).FullName && l.Scopes.Contains($"OrgId:{orgId}"));
        }
    }

    [Fact]
    public async Task A_deleted_org_is_billed_for_the_month_it_was_deleted_in_and_then_drops_out_of_the_index()
    {
        await using var world = await InvoiceWorld.StartAsync(Utc(2028, 6, 5));
        var (owner, deleted) = await world.NewOrgAsync("pro");
        var (_, kept) = await world.NewOrgAsync("pro");
        world.Clock.SetUtcNow(Utc(2028, 6, 20));
        owner = await world.AgainAsync(owner);
        using (var response = await owner.Client.DeleteAsync(new Uri($"/api/v1/orgs/{deleted}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        world.Clock.SetUtcNow(Utc(2028, 7, 1, 0, 30));
        await InvokeTimerAsync(world);
        await world.App.DrainQueueAsync(CloseOrgPeriod.FunctionName);

        var book = world.App.Services.GetRequiredService<InvoiceBook>();
        var index = world.App.Services.GetRequiredService<BillingIndex>();
        Assert.NotNull(await book.FindPeriodAsync(deleted, Utc(2028, 6, 1), CancellationToken.None));
        Assert.False(await index.IsDueAsync(deleted, Utc(2028, 7, 1), CancellationToken.None));
        Assert.True(await index.IsDueAsync(kept, Utc(2028, 7, 1), CancellationToken.None));

        world.Clock.SetUtcNow(Utc(2028, 8, 1, 0, 30));
        await InvokeTimerAsync(world);
        var delivered = await world.App.DrainQueueAsync(CloseOrgPeriod.FunctionName);
        Assert.DoesNotContain(delivered, t => t.Contains(deleted, StringComparison.Ordinal));
        Assert.Null(await book.FindPeriodAsync(deleted, Utc(2028, 7, 1), CancellationToken.None));
        Assert.NotNull(await book.FindPeriodAsync(kept, Utc(2028, 7, 1), CancellationToken.None));
    }

    [Fact]
    public async Task An_invoice_left_unfinished_is_enqueued_again_and_finished_by_a_later_run()
    {
        await using var world = await InvoiceWorld.StartAsync(Utc(2028, 8, 10));
        var (_, orgId) = await world.NewOrgAsync("pro");
        world.LinksFail();
        world.Clock.SetUtcNow(Utc(2028, 9, 1, 0, 30));
        await InvokeTimerAsync(world);
        await world.App.DrainQueueAsync(CloseOrgPeriod.FunctionName);

        var book = world.App.Services.GetRequiredService<InvoiceBook>();
        var period = await book.FindPeriodAsync(orgId, Utc(2028, 8, 1), CancellationToken.None);
        Assert.True((await book.FindAsync(orgId, period!.InvoiceId, CancellationToken.None))!.Pending);

        world.LinksSucceed();
        world.Clock.SetUtcNow(Utc(2028, 9, 2, 0, 30));
        await InvokeTimerAsync(world);
        Assert.Contains(await world.App.DrainQueueAsync(CloseOrgPeriod.FunctionName), t => t.Contains(orgId, StringComparison.Ordinal));
        Assert.False((await book.FindAsync(orgId, period.InvoiceId, CancellationToken.None))!.Pending);
    }

    [Fact]
    public async Task Orgs_created_before_the_billing_index_existed_are_billed_once_by_the_backfill()
    {
        using var azurite = await Azurite.StartFreshAsync();
        await using var world = await InvoiceWorld.StartAsync(Utc(2029, 1, 10), storage: azurite.ConnectionString);
        var index = world.App.Services.GetRequiredService<BillingIndex>();
        var (_, january) = await world.NewOrgAsync("pro");
        world.Clock.SetUtcNow(Utc(2029, 2, 1, 0, 10));
        var (_, february) = await world.NewOrgAsync("pro");

        // As if both were created before the index: their rows are not there.
        await index.SettleAsync(january, Utc(2029, 1, 1), CancellationToken.None);
        await index.SettleAsync(february, Utc(2029, 2, 1), CancellationToken.None);
        await index.ResetBackfillAsync(CancellationToken.None);

        world.Clock.SetUtcNow(Utc(2029, 2, 1, 0, 30));
        await InvokeTimerAsync(world);
        Assert.Equal([january], (await world.App.DrainQueueAsync(CloseOrgPeriod.FunctionName)).Select(Read).Select(m => m.OrgId));
        world.Clock.SetUtcNow(Utc(2029, 2, 2, 0, 30));
        await InvokeTimerAsync(world);
        Assert.Empty(await world.App.DrainQueueAsync(CloseOrgPeriod.FunctionName));

        // The org created in the month after (before the index too) is billed for that month.
        world.Clock.SetUtcNow(Utc(2029, 3, 1, 0, 30));
        await InvokeTimerAsync(world);
        Assert.Equal(new[] { february, january }.Order(), (await world.App.DrainQueueAsync(CloseOrgPeriod.FunctionName)).Select(Read).Select(m => m.OrgId).Order());

        var taken = await world.App.Services.GetRequiredService<InvoiceNumbering>().TakenAsync(world.Series, "2028-29", CancellationToken.None);
        Assert.Equal(2, taken.Count(t => t.OrgId == january));
        Assert.Single(taken, t => t.OrgId == february);
        Assert.Equal([1L, 2L, 3L], taken.Select(t => t.Sequence));
    }

    private static CloseOrgPeriodMessage Read(string text) => JsonSerializer.Deserialize<CloseOrgPeriodMessage>(text, Web)!;

    private static async Task InvokeTimerAsync(InvoiceWorld world)
    {
        using var response = await world.App.InvokeAsync(GenerateInvoices.FunctionName, HostInvocations.TimerEnvelope());
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Every message on the app's close queue, taken off it.</summary>
    private static async Task<List<(string Text, CloseOrgPeriodMessage Message)>> ReceiveAllAsync(InvoiceWorld world)
    {
        var name = world.App.Services.GetServices<FunctionDeclaration>().Single(d => d.Name == CloseOrgPeriod.FunctionName).QueueName!;
        QueueClient queue = world.App.Storage.Queue(name);
        var all = new List<(string, CloseOrgPeriodMessage)>();
        while ((await queue.ReceiveMessagesAsync(32)).Value is { Length: > 0 } messages)
        {
            foreach (var message in messages)
            {
                var text = message.Body.ToString();
                all.Add((text, Read(text)));
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
        }

        return all;
    }
}
