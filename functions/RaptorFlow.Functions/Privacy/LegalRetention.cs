using RaptorFlow.Functions.Invoices;

namespace RaptorFlow.Functions.Privacy;

/// <summary>
/// How long tax records are kept: 72 months from the due date of the annual GST return (GSTR-9,
/// due 31 December after the financial year ends) of the financial year they belong to (CGST Act
/// 2017 s.36, CGST Rules r.56).
/// </summary>
public static class LegalRetention
{
    public const int Months = 72;

    /// <summary>The first moment records of the financial year holding <paramref name="at"/> may be removed: the end (IST) of the day 72 months after its annual return's due date.</summary>
    public static DateTimeOffset EndsAfter(DateTimeOffset at)
    {
        var local = at.ToOffset(FinancialYear.Ist);
        var startYear = local.Month >= 4 ? local.Year : local.Year - 1;
        // The year runs to 31 March of startYear + 1; its annual return is due 31 December that year.
        var returnDue = new DateTimeOffset(startYear + 1, 12, 31, 0, 0, 0, FinancialYear.Ist);
        return returnDue.AddMonths(Months).AddDays(1);
    }
}
