using System.Globalization;
using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Privacy;

/// <summary>
/// When each deleted org is due for a purge stage, so the daily purge reads only what is due: table
/// <c>OrgPurges</c>, partition <c>due</c>, row key <c>{due time, 19-digit UTC ticks}|{orgId}|{stage}</c>.
/// A delete enters the org's <see cref="OrgPurgeStage.Org"/> row (written before the org row, so a
/// crash leaves only an entry the purge finds stale); a restore removes it; the org stage enters the
/// <see cref="OrgPurgeStage.Sweep"/> row half a day on and the <see cref="OrgPurgeStage.Records"/> row at
/// the end of the legal retention of its financial records. Partition <c>purged</c> holds one row per org
/// whose purge has begun (row key: the org id), until its records are purged: work still in flight for
/// the org reads it and writes nothing more.
/// </summary>
public sealed class OrgPurgeSchedule(StorageAccount storage, TimeProvider time)
{
    public const string TableName = "OrgPurges";
    private const string DuePartition = "due";
    private const string PurgedPartition = "purged";

    private TableClient Table => storage.Table(TableName);

    public Task ScheduleAsync(string orgId, DateTimeOffset dueAt, OrgPurgeStage stage, CancellationToken cancellationToken) =>
        Table.UpsertEntityAsync(
            new OrgPurgeRow { PartitionKey = DuePartition, RowKey = RowKey(orgId, dueAt, stage), OrgId = orgId, DueAt = dueAt, Stage = stage.ToString() },
            TableUpdateMode.Replace,
            cancellationToken);

    public async Task RemoveAsync(string orgId, DateTimeOffset dueAt, OrgPurgeStage stage, CancellationToken cancellationToken)
    {
        try
        {
            await Table.DeleteEntityAsync(DuePartition, RowKey(orgId, dueAt, stage), ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }
    }

    /// <summary>Records that the org's purge has begun: from now on nothing may write under it (<see cref="IsPurgedAsync"/>).</summary>
    public Task MarkPurgedAsync(string orgId, CancellationToken cancellationToken) =>
        Table.UpsertEntityAsync(new TableEntity(PurgedPartition, orgId) { ["PurgedAt"] = time.GetUtcNow() }, TableUpdateMode.Replace, cancellationToken);

    /// <summary>
    /// True once the org's purge has begun, until its financial records are purged: what a writer of the
    /// org's data that may run late (a queued mail, a webhook send) checks first, one point read. The org
    /// row cannot tell: the purge removes it.
    /// </summary>
    public async Task<bool> IsPurgedAsync(string orgId, CancellationToken cancellationToken) =>
        (await Table.GetEntityIfExistsAsync<TableEntity>(PurgedPartition, orgId, select: ["PartitionKey"], cancellationToken: cancellationToken)).HasValue;

    /// <summary>Drops the mark, with the org's last records.</summary>
    public async Task ForgetPurgedAsync(string orgId, CancellationToken cancellationToken)
    {
        try
        {
            await Table.DeleteEntityAsync(PurgedPartition, orgId, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }
    }

    /// <summary>Entries due before now, oldest first: one key range of the <c>due</c> partition.</summary>
    public IAsyncEnumerable<OrgPurgeRow> DueAsync(CancellationToken cancellationToken) =>
        Table.QueryAsync<OrgPurgeRow>(
            TableClient.CreateQueryFilter($"PartitionKey eq {DuePartition} and RowKey lt {Ticks(time.GetUtcNow()) + "|"}"),
            cancellationToken: cancellationToken);

    /// <summary>The entries of one org, whatever their stage (for tests and ops).</summary>
    public IAsyncEnumerable<OrgPurgeRow> OfOrgAsync(string orgId, CancellationToken cancellationToken) =>
        Table.QueryAsync<OrgPurgeRow>(TableClient.CreateQueryFilter($"PartitionKey eq {DuePartition} and OrgId eq {orgId}"), cancellationToken: cancellationToken);

    private static string RowKey(string orgId, DateTimeOffset dueAt, OrgPurgeStage stage) => $"{Ticks(dueAt)}|{orgId}|{stage}";

    private static string Ticks(DateTimeOffset at) => at.UtcTicks.ToString("D19", CultureInfo.InvariantCulture);
}

/// <summary>What a purge entry removes: the org's data once its grace ended, or its kept financial records once their retention ended.</summary>
public enum OrgPurgeStage
{
    Org,
    Records,

    /// <summary>
    /// The org stage again, half a day after it: removes what work in flight while it ran wrote behind it
    /// (a mail's sent marker, a send-limit bucket). Only after it is the org's data gone for good.
    /// </summary>
    Sweep,
}

public sealed class OrgPurgeRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string OrgId { get; set; } = "";
    public DateTimeOffset DueAt { get; set; }
    public string Stage { get; set; } = "";

    public OrgPurgeStage ParsedStage => Enum.Parse<OrgPurgeStage>(Stage);
}
