using System.Net;
using Azure.Data.Tables;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Telemetry;
using RaptorFlow.Functions.Usage;
using RaptorFlow.Tests.Fixtures;
using static RaptorFlow.Tests.Usage.UsageRequests;

namespace RaptorFlow.Tests.Usage;

/// <summary>
/// RollupUsage fans out one RollupOrgUsage message per org with pending hours; the host may deliver a
/// message more than once, on several instances at the same moment. Every delivery must leave the same
/// totals: each event counted once at every level.
/// </summary>
public sealed class RollupOrgUsageTests(UsageAppFixture fixture) : IClassFixture<UsageAppFixture>
{
    private TestApp App => fixture.App;

    private static string NewId() => "ev-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task A_rollup_delivered_three_times_at_once_and_once_more_later_counts_every_event_once()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var hour = UsageKeys.HourOf(fixture.Clock.GetUtcNow());
        // Three hours over two days, so hour, day and month totals are all recomputed from the level below.
        await owner.PostEventsAsync(orgId,
            Event(NewId(), hour.AddHours(-26), 3),
            Event(NewId(), hour.AddHours(-2), 4),
            Event(NewId(), hour.AddHours(-2).AddMinutes(10), 5, "exports"),
            Event(NewId(), hour.AddMinutes(1), 6));

        using (var scope = App.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<RollupUsage>()
                .RunAsync(new TimerTriggerInfo(false, null, null, Guid.NewGuid().ToString()), CancellationToken.None);
        }

        using var activities = new ActivityRecorder();
        var text = Assert.Single(await ReceiveAllAsync(), t => t.Contains(orgId, StringComparison.Ordinal));
        // Another test's rollup run may roll this org up as well (pending hours are shared storage): count this test's invocations only.
        var invocations = Enumerable.Range(0, 4).Select(_ => Guid.NewGuid().ToString()).ToList();
        var deliveries = invocations.Take(3).Select(invocation => Task.Run(async () =>
        {
            using var response = await App.InvokeAsync(RollupOrgUsage.FunctionName, HostInvocations.QueueTextEnvelope(text), invocation);
            return response.StatusCode;
        }));
        Assert.All(await Task.WhenAll(deliveries), status => Assert.Equal(HttpStatusCode.OK, status));
        var once = await AllTotalsAsync(orgId);

        using (var late = await App.InvokeAsync(RollupOrgUsage.FunctionName, HostInvocations.QueueTextEnvelope(text), invocations[3]))
        {
            Assert.Equal(HttpStatusCode.OK, late.StatusCode);
        }

        // Each delivery is one operation, tagged with the org, under its invocation.
        var ours = activities.Named("rollup org usage", UnitOfWork.OrgIdTag, orgId)
            .Where(a => invocations.Contains(a.Parent?.GetTagItem("faas.invocation_id") as string ?? "")).ToList();
        Assert.All(ours, a => Assert.Equal($"function {RollupOrgUsage.FunctionName}", a.Parent?.OperationName));
        Assert.Equal(invocations.Order(), ours.Select(a => (string)a.Parent!.GetTagItem("faas.invocation_id")!).Order());

        var totals = App.Services.GetRequiredService<IUsageTotals>();
        var sums = await totals.GetTotalsAsync(orgId, hour.AddHours(-30), hour.AddHours(1), CancellationToken.None);
        Assert.Equal(13, sums[Meters.ApiCalls]);
        Assert.Equal(5, sums["exports"]);
        Assert.Equal(once, await AllTotalsAsync(orgId));
        // Hours, days and months each hold every event once: their api_calls rows add up to 13 per level.
        Assert.All(once.GroupBy(t => t.Level), level => Assert.Equal(13, level.Where(t => t.Meter == Meters.ApiCalls).Sum(t => t.Quantity)));
        Assert.Equal(["d", "h", "m"], once.Select(t => t.Level).Distinct().Order());
        var store = App.Services.GetRequiredService<UsageStore>();
        await foreach (var left in store.PendingHours.QueryAsync<PendingHourRow>(
            TableClient.CreateQueryFilter($"PartitionKey eq {PendingHourRow.Partition} and RowKey ge {orgId + "|"} and RowKey lt {orgId + "}"}")))
        {
            Assert.Fail($"Hour {left.RowKey} is still pending.");
        }
    }

    /// <summary>Every total row of the org, at every level, as (level, period row key, meter, quantity).</summary>
    private async Task<List<(string Level, string RowKey, string Meter, long Quantity)>> AllTotalsAsync(string orgId)
    {
        var rows = new List<(string, string, string, long)>();
        await foreach (var row in App.Services.GetRequiredService<UsageRollup>().Totals.QueryAsync<UsageTotalRow>(TableClient.CreateQueryFilter($"PartitionKey eq {orgId}")))
        {
            rows.Add((row.Granularity, row.RowKey, row.Meter, row.Quantity));
        }

        return [.. rows.OrderBy(r => r.Item2, StringComparer.Ordinal)];
    }

    /// <summary>Every message on the app's rollup queue, taken off it.</summary>
    private async Task<List<string>> ReceiveAllAsync()
    {
        var name = App.Services.GetServices<FunctionDeclaration>().Single(d => d.Name == RollupOrgUsage.FunctionName).QueueName!;
        var queue = App.Storage.Queue(name);
        var all = new List<string>();
        while ((await queue.ReceiveMessagesAsync(32)).Value is { Length: > 0 } messages)
        {
            foreach (var message in messages)
            {
                all.Add(message.Body.ToString());
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
        }

        return all;
    }
}
