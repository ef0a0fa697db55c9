using System.Globalization;

namespace RaptorFlow.Functions.Invoices;

/// <summary>India's financial year, April to March, decided by a moment's date in IST.</summary>
public static class FinancialYear
{
    /// <summary>IST has no daylight saving; a fixed offset needs no time-zone database (the container runs with invariant globalization).</summary>
    public static readonly TimeSpan Ist = new(5, 30, 0);

    /// <summary>The year label of <paramref name="at"/>, e.g. <c>2026-27</c> for any moment from 1 April 2026 00:00 IST to 31 March 2027 23:59 IST.</summary>
    public static string Of(DateTimeOffset at)
    {
        var local = at.ToOffset(Ist);
        var startYear = local.Month >= 4 ? local.Year : local.Year - 1;
        return string.Create(CultureInfo.InvariantCulture, $"{startYear}-{(startYear + 1) % 100:D2}");
    }
}
