using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.ApiKeys;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Audit;

/// <summary>
/// Records audit events in the <c>AuditEvents</c> table, one partition per org. A mutation
/// records its event after it commits and before it answers, so a success the client sees
/// always has its event; writes are not cancelled by a client that goes away.
/// </summary>
public sealed class AuditLog(StorageAccount storage, IdGenerator ids, TimeProvider time, ClientAddressResolver clientAddress)
{
    public const string TableName = "AuditEvents";

    /// <summary>The partition of events that belong to no org (ops acting on the platform). Org ids are <c>org_…</c>, so it cannot collide.</summary>
    public const string PlatformPartition = "platform";

    // A string property holds at most 64 KiB (32K UTF-16 chars); keep well under.
    private const int MaxChangesChars = 30_000;
    private const int MaxValueChars = 1_000;
    private const int MaxUserAgentChars = 512;

    internal TableClient Table => storage.Table(TableName);

    /// <summary>Records an event done by the request's caller, with its client address, user agent and request id.</summary>
    public Task RecordAsync(HttpContext context, string orgId, AuditEntry entry) =>
        RecordAsync(orgId, AuditActor.From(context.GetCaller()), entry, clientAddress.Of(context)?.ToString(), context.TraceIdentifier,
            Clip(context.Request.Headers.UserAgent.ToString(), MaxUserAgentChars) is { Length: > 0 } agent ? agent : null);

    public async Task RecordAsync(string orgId, AuditActor actor, AuditEntry entry, string? ip = null, string? requestId = null, string? userAgent = null)
    {
        var at = time.GetUtcNow();
        await Table.AddEntityAsync(NewRow(orgId, actor, entry, at, ids.New("evt"), ip, requestId, userAgent), CancellationToken.None);
    }

    /// <summary>
    /// Records an event of background work at most once: its id is derived from <paramref name="seed"/> and
    /// <paramref name="at"/>, so a repeat of the same work finds the row and adds none.
    /// </summary>
    public async Task RecordOnceAsync(string orgId, AuditActor actor, AuditEntry entry, DateTimeOffset at, string seed)
    {
        try
        {
            await Table.AddEntityAsync(NewRow(orgId, actor, entry, at, IdGenerator.Derived("evt", at, seed), null, null, null), CancellationToken.None);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
        }
    }

    private static AuditEventRow NewRow(
        string orgId, AuditActor actor, AuditEntry entry, DateTimeOffset at, string id, string? ip, string? requestId, string? userAgent) => new()
        {
            PartitionKey = orgId,
            RowKey = RowKeyFor(at, id),
            EventId = id,
            Action = entry.Action,
            ActorKind = actor.Kind,
            ActorId = actor.Id,
            ActorRef = actor.Reference,
            ActorEmail = actor.Email,
            TargetType = entry.TargetType,
            TargetId = entry.TargetId,
            OccurredAt = at,
            Ip = ip,
            UserAgent = userAgent,
            RequestId = requestId,
            Changes = SerializeChanges(entry.Changes),
        };

    /// <summary>A page of a partition's events, newest first, narrowed to an action and/or an actor reference when given.</summary>
    public Task<(IReadOnlyList<AuditEventRow> Items, string? NextCursor)> ReadPageAsync(
        string partition, string? action, string? actor, PageRequest page, CancellationToken cancellationToken)
    {
        var filter = (action, actor) switch
        {
            (null, null) => TableClient.CreateQueryFilter($"PartitionKey eq {partition}"),
            (not null, null) => TableClient.CreateQueryFilter($"PartitionKey eq {partition} and Action eq {action}"),
            (null, not null) => TableClient.CreateQueryFilter($"PartitionKey eq {partition} and ActorRef eq {actor}"),
            _ => TableClient.CreateQueryFilter($"PartitionKey eq {partition} and Action eq {action} and ActorRef eq {actor}"),
        };
        return Table.ReadPageAsync<AuditEventRow>(filter, page, cancellationToken);
    }

    public static string RowKeyFor(DateTimeOffset at, string id) => NewestFirst.RowKey(at, id);

    private static string? SerializeChanges(IReadOnlyDictionary<string, AuditChange>? changes)
    {
        if (changes is null || changes.Count == 0)
        {
            return null;
        }

        var trimmed = changes.ToDictionary(c => c.Key, c => new AuditChange(Clip(c.Value.Before, MaxValueChars), Clip(c.Value.After, MaxValueChars)));
        var json = JsonSerializer.Serialize(trimmed, AuditJson.Options);
        return json.Length <= MaxChangesChars ? json : JsonSerializer.Serialize(new Dictionary<string, string> { ["truncated"] = "true" });
    }

    private static string? Clip(string? value, int max) => value is not null && value.Length > max ? value[..max] + "…" : value;
}
