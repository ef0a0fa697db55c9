namespace RaptorFlow.Functions.Platform.Paging;

/// <summary>
/// Row keys that make a partition read newest first: the inverted creation time (19 digits),
/// then the id, so rows of the same tick still sort and never collide.
/// </summary>
public static class NewestFirst
{
    public static string RowKey(DateTimeOffset at, string id) => $"{Inverted(at)}_{id}";

    /// <summary>Every key of a row created after <paramref name="at"/> sorts below this bound.</summary>
    public static string CreatedAfter(DateTimeOffset at) => Inverted(at);

    private static string Inverted(DateTimeOffset at) => $"{DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks:D19}";
}
