using System.Globalization;

namespace RaptorFlow.Functions.Mail;

/// <summary>How values read in mail: money from minor units, times in UTC.</summary>
public static class MailFormat
{
    /// <summary>"INR 1,234.56" from 123456 paise; display only, never computed with.</summary>
    public static string Money(long minor, string currency) =>
        $"{currency} {(minor / 100m).ToString("N2", CultureInfo.InvariantCulture)}";

    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("d MMM yyyy, HH:mm 'UTC'", CultureInfo.InvariantCulture);

    public static string Date(DateTimeOffset at) => at.UtcDateTime.ToString("d MMM yyyy", CultureInfo.InvariantCulture);
}
