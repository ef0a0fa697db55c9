using RaptorFlow.Functions.Usage;
using RaptorFlow.Tests.Fixtures;
using static RaptorFlow.Tests.Usage.UsageRequests;

namespace RaptorFlow.Tests.Usage;

public sealed class UsageRollupTests(UsageAppFixture fixture) : IClassFixture<UsageAppFixture>
{
    private TestApp App => fixture.App;

    private DateTimeOffset Now => fixture.Clock.GetUtcNow();

    private static string NewId() => "ev-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Rollup_splits_events_across_hour_day_and_month_boundaries()
    {
        var monthStart = fixture.NextMonth();
        fixture.MoveTo(monthStart.AddMinutes(-20));
        var (owner, orgId) = await fixture.App.NewOrgAsync();

        // 22:50 and 23:40 of the month's last day; then, sent after midnight, 23:59:59, 00:00 and 00:30.
        await owner.PostEventsAsync(orgId,
            Event(NewId(), monthStart.AddMinutes(-70), 1),
            Event(NewId(), monthStart.AddMinutes(-20), 10));
        fixture.MoveTo(monthStart.AddMinutes(40));
        owner = await App.SignInAsync(owner.Id);
        await owner.PostEventsAsync(orgId,
            Event(NewId(), monthStart.AddSeconds(-1), 20),
            Event(NewId(), monthStart, 100),
            Event(NewId(), monthStart.AddMinutes(30), 1000));
        await fixture.RollupAsync();

        var hours = (await owner.GetUsageAsync(orgId, $"granularity=hour&from={Iso(monthStart.AddHours(-3))}&to={Iso(monthStart.AddHours(2))}")).Points();
        Assert.Equal([(monthStart.AddHours(-2), 1L), (monthStart.AddHours(-1), 30L), (monthStart, 1100L)], hours);

        var days = (await owner.GetUsageAsync(orgId, $"granularity=day&from={Iso(monthStart.AddDays(-2))}&to={Iso(monthStart.AddDays(2))}")).Points();
        Assert.Equal([(monthStart.AddDays(-1), 31L), (monthStart, 1100L)], days);

        var months = (await owner.GetUsageAsync(orgId, $"granularity=month&from={Iso(monthStart.AddMonths(-1))}&to={Iso(monthStart.AddMonths(1))}")).Points();
        Assert.Equal([(monthStart.AddMonths(-1), 31L), (monthStart, 1100L)], months);

        var totals = App.Services.GetRequiredService<IUsageTotals>();
        Assert.Equal(31, (await totals.GetTotalsAsync(orgId, monthStart.AddMonths(-1), monthStart, CancellationToken.None))[Meters.ApiCalls]);
        Assert.Equal(1100, (await totals.GetTotalsAsync(orgId, monthStart, monthStart.AddDays(1), CancellationToken.None))[Meters.ApiCalls]);
        Assert.Equal(1130, (await totals.GetTotalsAsync(orgId, monthStart.AddHours(-1), monthStart.AddHours(1), CancellationToken.None))[Meters.ApiCalls]);
    }

    [Fact]
    public async Task A_late_event_is_picked_up_by_the_next_run_and_reruns_give_the_same_totals()
    {
        var (owner, orgId) = await fixture.App.NewOrgAsync();
        var start = Now;
        await owner.PostEventsAsync(orgId, Event(NewId(), start.AddMinutes(-5), 7));
        await fixture.RollupAsync();

        // Two days later an event dated back then arrives: its old hour, day and month are recomputed.
        fixture.MoveTo(start.AddDays(2));
        owner = await App.SignInAsync(owner.Id);
        await owner.PostEventsAsync(orgId, Event(NewId(), start.AddMinutes(-4), 5));
        var window = $"granularity=day&from={Iso(start.AddDays(-1))}&to={Iso(start.AddDays(3))}";
        Assert.Equal(7, (await owner.GetUsageAsync(orgId, window)).Points().Sum(p => p.Quantity));

        await fixture.RollupAsync();
        var once = await owner.GetUsageAsync(orgId, window);
        Assert.Equal(12, once.Points().Sum(p => p.Quantity));

        // Re-running, with nothing pending or with the whole window marked again, changes nothing.
        await fixture.RollupAsync();
        var rollup = App.Services.GetRequiredService<UsageRollup>();
        await rollup.MarkWindowAsync(App.Services.GetRequiredService<UsageStore>(), orgId, start.AddDays(-1), start.AddDays(3), CancellationToken.None);
        await fixture.RollupAsync();
        await fixture.RollupAsync();
        var again = await owner.GetUsageAsync(orgId, window);
        Assert.Equal(once.GetProperty("data").ToString(), again.GetProperty("data").ToString());
        var month = await owner.GetUsageAsync(orgId, $"granularity=month&from={Iso(start)}&to={Iso(start.AddDays(3))}");
        Assert.Equal(12, month.Points().Sum(p => p.Quantity));
    }

    [Fact]
    public async Task An_hour_marked_while_the_rollup_ran_stays_pending()
    {
        var (owner, orgId) = await fixture.App.NewOrgAsync();
        await owner.PostEventsAsync(orgId, Event(NewId(), Now, 1));
        var store = App.Services.GetRequiredService<UsageStore>();
        var key = UsageKeys.PendingRowKey(orgId, UsageKeys.HourOf(Now));
        var seen = (await store.PendingHours.GetEntityAsync<PendingHourRow>(PendingHourRow.Partition, key)).Value;

        // Another event re-marks the hour after the rollup read the mark: the delete must not remove the newer mark.
        await owner.PostEventsAsync(orgId, Event(NewId(), Now, 1));
        await Assert.ThrowsAsync<Azure.RequestFailedException>(() => store.PendingHours.DeleteEntityAsync(seen.PartitionKey, seen.RowKey, seen.ETag));
        await fixture.RollupAsync();
        Assert.False((await store.PendingHours.GetEntityIfExistsAsync<PendingHourRow>(PendingHourRow.Partition, key)).HasValue);
        var usage = await owner.GetUsageAsync(orgId, $"granularity=hour&from={Iso(Now.AddHours(-1))}&to={Iso(Now.AddHours(1))}");
        Assert.Equal(2, usage.Points().Sum(p => p.Quantity));
    }

    [Fact]
    public async Task Metered_counts_are_flushed_into_the_same_store_once()
    {
        var (owner, orgId) = await fixture.App.NewOrgAsync();
        var meter = App.Services.GetRequiredService<BufferedUsageMeter>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 1000), async (_, _) =>
        {
            meter.Count(orgId, Meters.ApiCalls);
            await Task.Yield();
        });
        meter.Count(orgId, "storage_gb_hours", 5);
        meter.Count(orgId, "Not A Meter", 5);
        meter.Count(orgId, Meters.ApiCalls, 0);

        var store = App.Services.GetRequiredService<UsageStore>();
        await meter.FlushAsync(store, CancellationToken.None);
        await meter.FlushAsync(store, CancellationToken.None);
        Assert.Equal(0, meter.PendingQuantity);
        await fixture.RollupAsync();

        var totals = await App.Services.GetRequiredService<IUsageTotals>()
            .GetTotalsAsync(orgId, UsageKeys.HourOf(Now), UsageKeys.HourOf(Now).AddHours(1), CancellationToken.None);
        Assert.Equal(1000, totals[Meters.ApiCalls]);
        Assert.Equal(5, totals["storage_gb_hours"]);
        Assert.Equal(2, totals.Count);
    }

    [Fact]
    public async Task Rolling_up_one_orgs_period_sums_its_pending_hours_in_that_period()
    {
        var (owner, orgId) = await fixture.App.NewOrgAsync();
        var hour = UsageKeys.HourOf(Now);
        await owner.PostEventsAsync(orgId, Event(NewId(), hour.AddHours(-2), 3), Event(NewId(), hour.AddMinutes(-30), 4), Event(NewId(), Now, 5));

        await App.Services.GetRequiredService<UsageRollup>().RunForOrgAsync(orgId, hour.AddHours(-3), hour, CancellationToken.None);

        var totals = App.Services.GetRequiredService<IUsageTotals>();
        Assert.Equal(7, (await totals.GetTotalsAsync(orgId, hour.AddHours(-3), hour, CancellationToken.None))[Meters.ApiCalls]);
        var store = App.Services.GetRequiredService<UsageStore>();
        Assert.False((await store.PendingHours.GetEntityIfExistsAsync<PendingHourRow>(PendingHourRow.Partition, UsageKeys.PendingRowKey(orgId, hour.AddHours(-2)))).HasValue);
    }

    [Fact]
    public async Task Rollups_running_at_once_while_events_arrive_end_with_exact_totals()
    {
        var (owner, orgId) = await fixture.App.NewOrgAsync();
        var hour = UsageKeys.HourOf(Now);
        var rollup = App.Services.GetRequiredService<UsageRollup>();

        var posting = Task.Run(async () =>
        {
            for (var i = 1; i <= 20; i++)
            {
                await owner.PostEventsAsync(orgId, Event(NewId(), hour, i));
            }
        });
        var rolling = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            for (var round = 0; round < 200 && !posting.IsCompleted; round++)
            {
                await rollup.RunForOrgAsync(orgId, hour, hour.AddHours(1), CancellationToken.None);
            }
        }));
        await posting;
        await Task.WhenAll(rolling);
        await rollup.RunForOrgAsync(orgId, hour, hour.AddHours(1), CancellationToken.None);

        // A run that summed fewer events than a concurrent one never overwrites the larger total.
        var totals = App.Services.GetRequiredService<IUsageTotals>();
        var day = UsageKeys.Floor(hour, UsageGranularity.Day);
        var month = UsageKeys.Floor(hour, UsageGranularity.Month);
        Assert.Equal(210, (await totals.GetTotalsAsync(orgId, hour, hour.AddHours(1), CancellationToken.None))[Meters.ApiCalls]);
        Assert.Equal(210, (await totals.GetTotalsAsync(orgId, day, day.AddDays(1), CancellationToken.None))[Meters.ApiCalls]);
        Assert.Equal(210, (await totals.GetTotalsAsync(orgId, month, month.AddMonths(1), CancellationToken.None))[Meters.ApiCalls]);
    }

    [Fact]
    public async Task Totals_refuse_ranges_that_are_not_on_the_hour()
    {
        var totals = App.Services.GetRequiredService<IUsageTotals>();
        var hour = UsageKeys.HourOf(Now);
        await Assert.ThrowsAsync<ArgumentException>(() => totals.GetTotalsAsync("org_x", hour.AddMinutes(1), hour.AddHours(1), CancellationToken.None));
        Assert.Empty(await totals.GetTotalsAsync("org_nothing_here", hour, hour.AddHours(1), CancellationToken.None));
    }
}
