using CsCheck;
using RaptorFlow.Functions.Webhooks;

namespace RaptorFlow.Tests.Webhooks;

public sealed class WebhookRetryScheduleTests
{
    private static readonly TimeSpan[] Table =
    [
        TimeSpan.Zero, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30),
        TimeSpan.FromHours(2), TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(10),
    ];

    [Fact]
    public void Every_delay_is_within_ten_percent_of_the_table_over_eight_attempts_totalling_about_27_6_hours() =>
        Gen.Double[0, 0.999999].Array[Table.Length].Sample(units =>
        {
            var delays = Enumerable.Range(1, 9).Select(n => WebhookRetrySchedule.DelayBefore(n, units[Math.Min(n, Table.Length) - 1])).ToList();
            Assert.Null(delays[8]);
            var total = TimeSpan.Zero;
            for (var i = 0; i < Table.Length; i++)
            {
                var delay = delays[i]!.Value;
                Assert.InRange(delay.Ticks, (long)(Table[i].Ticks * 0.9) - 1, (long)(Table[i].Ticks * 1.1) + 1);
                total += delay;
            }

            Assert.InRange(total.TotalHours, 27.58 * 0.9, 27.59 * 1.1);
            Assert.Equal(8, WebhookRetrySchedule.MaxAttempts);
        });

    [Fact]
    public void The_nominal_schedule_totals_27_6_hours() =>
        Assert.Equal(27.58, Math.Round(Table.Aggregate(TimeSpan.Zero, (a, b) => a + b).TotalHours, 2));
}
