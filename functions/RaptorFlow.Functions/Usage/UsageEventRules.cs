namespace RaptorFlow.Functions.Usage;

/// <summary>The shape rules of a usage event, shared by the API, the meter and the plan catalog.</summary>
public static class UsageEventRules
{
    public const int MaxIdLength = 128;
    public const int MaxMeterLength = 64;
    public const long MaxQuantity = 1_000_000_000;

    /// <summary>Ids starting with this are minted by the platform's own meter; clients may not use them.</summary>
    public const string ReservedIdPrefix = "rf:";

    /// <summary>How far back an event may be dated, and how long its id is remembered (at least).</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(35);

    /// <summary>How far ahead of our clock an event may be dated (clock skew).</summary>
    public static readonly TimeSpan MaxFutureSkew = TimeSpan.FromMinutes(5);

    /// <summary>a-z first, then a-z, 0-9 and '_', at most 64 characters.</summary>
    public static bool IsValidMeter(string? meter) =>
        meter is { Length: >= 1 and <= MaxMeterLength } && meter[0] is >= 'a' and <= 'z'
        && meter.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_');

    /// <summary>
    /// 1-128 characters of A-Z, a-z, 0-9 and <c>. _ : -</c>: safe as a table row key (which forbids
    /// <c>/ \ # ?</c> and control characters) and unambiguous in logs.
    /// </summary>
    public static bool IsValidId(string? id) =>
        id is { Length: >= 1 and <= MaxIdLength }
        && id.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '_' or ':' or '-');
}
