namespace RaptorFlow.Functions.Plans;

public static class BillingPeriods
{
    /// <summary>The calendar month (UTC) holding <paramref name="at"/>: [first of month 00:00Z, first of next month 00:00Z).</summary>
    public static (DateTimeOffset Start, DateTimeOffset End) CalendarMonthOf(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        var start = new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero);
        return (start, start.AddMonths(1));
    }
}
