namespace RaptorFlow.Functions.Events;

internal static class OutboxKeys
{
    public const string TableName = "EventOutbox";
    public const string PendingPartition = "~pending";
    public const string Queue = "domain-events";

    /// <summary>'~' sorts after '|' and '}', the bounds of every feature's row-key prefix range.</summary>
    public const string RowPrefix = "~outbox|";

    /// <summary>A binary property holds at most 64 KiB.</summary>
    public const int MaxDataBytes = 64 * 1024;

    public static string RowKey(string eventId) => RowPrefix + eventId;
}
