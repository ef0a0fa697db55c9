using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Usage;

/// <summary>An event already checked against <see cref="UsageEventRules"/>.</summary>
public sealed record UsageEvent(string Id, string Meter, long Quantity, DateTimeOffset OccurredAt);

public enum RecordOutcome
{
    Accepted,
    Duplicate,
}

/// <summary>
/// Stores usage events: each id once per org, then the event in its hour, then the hour marked
/// pending for the rollup. Every step is idempotent, so a retry after a crash anywhere re-does
/// the missing steps from the claim row and counts nothing twice.
/// </summary>
public sealed partial class UsageStore(StorageAccount storage, TimeProvider time, ILogger<UsageStore> logger)
{
    private const int MaxBatch = 100;

    public TableClient EventIds => storage.Table(UsageEventIdRow.TableName);
    public TableClient Events => storage.Table(UsageEventRow.TableName);
    public TableClient PendingHours => storage.Table(PendingHourRow.TableName);

    /// <summary>
    /// Records <paramref name="events"/> for the org (ids must be distinct) and says, per event,
    /// whether it was new or an id the org had already used.
    /// </summary>
    public async Task<IReadOnlyList<RecordOutcome>> RecordAsync(string orgId, IReadOnlyList<UsageEvent> events, CancellationToken cancellationToken)
    {
        var outcomes = new RecordOutcome[events.Count];
        var toPlace = new List<UsageEventIdRow>(events.Count);
        var now = time.GetUtcNow();

        for (var offset = 0; offset < events.Count; offset += MaxBatch)
        {
            var chunk = Enumerable.Range(offset, Math.Min(MaxBatch, events.Count - offset)).ToList();
            await ClaimAsync(orgId, events, chunk, now, outcomes, toPlace, cancellationToken);
        }

        // Duplicates are placed again from their claim: if the first attempt died after the claim,
        // this is what completes it; otherwise it rewrites the same row with the same values.
        await PlaceAsync(orgId, toPlace, cancellationToken);
        return outcomes;
    }

    private async Task ClaimAsync(
        string orgId, IReadOnlyList<UsageEvent> events, List<int> indexes, DateTimeOffset now,
        RecordOutcome[] outcomes, List<UsageEventIdRow> toPlace, CancellationToken cancellationToken)
    {
        var remaining = indexes;
        await OptimisticConcurrency.RunAsync(
            ConcurrencyPolicy.Batch,
            async _ =>
            {
                var rows = remaining.Select(i => new UsageEventIdRow
                {
                    PartitionKey = orgId,
                    RowKey = events[i].Id,
                    Meter = events[i].Meter,
                    Quantity = events[i].Quantity,
                    OccurredAt = events[i].OccurredAt,
                    ReceivedAt = now,
                }).ToList();

                try
                {
                    // One transaction: all ids are new, or none is written (409) and we sort them out below.
                    await EventIds.SubmitTransactionAsync(rows.Select(r => new TableTransactionAction(TableTransactionActionType.Add, r)), cancellationToken);
                    foreach (var (index, row) in remaining.Zip(rows))
                    {
                        outcomes[index] = RecordOutcome.Accepted;
                        toPlace.Add(row);
                    }

                    return true;
                }
                catch (TableTransactionFailedException e) when (e.Status == 409)
                {
                    // Some id exists: look each one up, settle the known ones and retry the rest.
                }

                var existing = await Task.WhenAll(remaining.Select(i =>
                    EventIds.GetEntityIfExistsAsync<UsageEventIdRow>(orgId, events[i].Id, cancellationToken: cancellationToken)));
                var next = new List<int>();
                for (var k = 0; k < remaining.Count; k++)
                {
                    if (existing[k].HasValue)
                    {
                        outcomes[remaining[k]] = RecordOutcome.Duplicate;
                        toPlace.Add(existing[k].Value!);
                    }
                    else
                    {
                        next.Add(remaining[k]);
                    }
                }

                remaining = next;
                return remaining.Count == 0;
            },
            cancellationToken,
            exhausted: () => throw new InvalidOperationException($"Could not claim {remaining.Count} usage event ids for {orgId} after {ConcurrencyPolicy.Batch.MaxAttempts} rounds of concurrent writes."));
    }

    private async Task PlaceAsync(string orgId, List<UsageEventIdRow> claims, CancellationToken cancellationToken)
    {
        var byHour = claims.GroupBy(c => UsageKeys.HourOf(c.OccurredAt)).ToList();
        await Parallel.ForEachAsync(
            byHour.SelectMany(hour => hour.Chunk(MaxBatch).Select(chunk => (Hour: hour.Key, Rows: chunk))),
            new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
            async (batch, ct) =>
            {
                var partition = UsageKeys.HourPartition(orgId, batch.Hour);
                var actions = batch.Rows.Select(c => new TableTransactionAction(TableTransactionActionType.UpsertReplace, new UsageEventRow
                {
                    PartitionKey = partition,
                    RowKey = c.RowKey,
                    Meter = c.Meter,
                    Quantity = c.Quantity,
                    OccurredAt = c.OccurredAt,
                }));
                await Events.SubmitTransactionAsync(actions, ct);
            });

        // After the raw rows, so a rollup that sees the mark also sees the events.
        await MarkPendingAsync(orgId, byHour.Select(h => h.Key), cancellationToken);
    }

    public async Task MarkPendingAsync(string orgId, IEnumerable<DateTimeOffset> hours, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var chunk in hours.Distinct().Chunk(MaxBatch))
        {
            await PendingHours.SubmitTransactionAsync(
                chunk.Select(hour => new TableTransactionAction(TableTransactionActionType.UpsertReplace, new PendingHourRow
                {
                    RowKey = UsageKeys.PendingRowKey(orgId, hour),
                    MarkedAt = now,
                })),
                cancellationToken);
        }

        LogMarked(logger, orgId);
    }

    [LoggerMessage(EventId = 6100, Level = LogLevel.Debug, Message = "Usage recorded for {OrgId}; its hours are pending rollup.")]
    private static partial void LogMarked(ILogger logger, string orgId);
}
