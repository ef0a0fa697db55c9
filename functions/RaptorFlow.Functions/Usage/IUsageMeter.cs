namespace RaptorFlow.Functions.Usage;

/// <summary>Hot path: no I/O. Buffered in memory and flushed in the background as usage events with idempotent ids.</summary>
public interface IUsageMeter
{
    void Count(string orgId, string meter, long quantity = 1);
}
