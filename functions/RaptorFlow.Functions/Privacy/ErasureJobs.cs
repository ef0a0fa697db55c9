using System.Runtime.Serialization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Privacy;

/// <summary>
/// The <c>Erasures</c> table: one partition per erased user, keyed by their pseudonym (never their id,
/// which the erasure removes), row = job id. The user's id, address and name, which the job needs to
/// find and replace them, are held here while the job is queued or running, and nowhere else (its queue
/// message names only the job): they are cleared when it finishes and when its last attempt begins, so
/// a job that fails for good, or ends in the poison queue, leaves no trace of whom it was erasing.
/// </summary>
public sealed class ErasureJobRow : ITableEntity
{
    public const string TableName = "Erasures";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Status { get; set; } = ErasureStatus.Queued;

    /// <summary>The orgs whose records are rewritten, space-separated, decided when the erasure was requested.</summary>
    public string Orgs { get; set; } = "";

    /// <summary>How many of <see cref="Orgs"/>, in order, are rewritten and have their <c>user.erased</c> event.</summary>
    public int OrgsDone { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public string? Error { get; set; }

    /// <summary>The user erased, while the job may still run; null once it finished or its last attempt began.</summary>
    public string? UserId { get; set; }

    public string? Email { get; set; }

    public string? Name { get; set; }

    [IgnoreDataMember]
    public ErasureSubject? Subject => UserId is { Length: > 0 } userId ? new ErasureSubject(userId, Email, Name) : null;

    /// <summary>Forgets whom the job erases; returns false when it held no one.</summary>
    public bool ForgetSubject()
    {
        var held = UserId is not null || Email is not null || Name is not null;
        UserId = Email = Name = null;
        return held;
    }

    [IgnoreDataMember]
    public string JobId => RowKey;

    [IgnoreDataMember]
    public IReadOnlyList<string> OrgList => Orgs.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [IgnoreDataMember]
    public bool IsFinished => Status is ErasureStatus.Done or ErasureStatus.Failed;
}

public static class ErasureStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Done = "done";
    public const string Failed = "failed";
}

/// <summary>The queue <see cref="EraseUser"/> reads (<c>Privacy:ErasureQueue</c>, default <c>erase-user</c>).</summary>
public sealed record ErasureQueue(string Name)
{
    public const string Default = "erase-user";
}

/// <summary>One erasure job to run: its row, which holds whom it erases (so the message, which may end in the poison queue, holds no one).</summary>
public sealed record ErasureMessage(string Partition, string JobId);

/// <summary>Erasure jobs as they are requested, advanced and read.</summary>
public sealed class ErasureBook(StorageAccount storage, ErasureQueue queue, IdGenerator ids, TimeProvider time)
{
    private TableClient Table => storage.Table(ErasureJobRow.TableName);

    /// <summary>Records a queued job over <paramref name="orgs"/> and enqueues it.</summary>
    public async Task<ErasureJobRow> StartAsync(ErasureSubject user, IReadOnlyList<string> orgs)
    {
        var job = new ErasureJobRow
        {
            PartitionKey = UserErasure.PseudonymOf(user.UserId),
            RowKey = ids.New("era"),
            Orgs = string.Join(' ', orgs),
            CreatedAt = time.GetUtcNow(),
            UserId = user.UserId,
            Email = user.Email,
            Name = user.Name,
        };
        var response = await Table.AddEntityAsync(job, CancellationToken.None);
        job.ETag = response.Headers.ETag ?? default;
        var message = new ErasureMessage(job.PartitionKey, job.JobId);
        await storage.Queue(queue.Name).SendMessageAsync(JsonSerializer.Serialize(message, PrivacyJson.Options), CancellationToken.None);
        return job;
    }

    public async Task<ErasureJobRow?> FindAsync(string partition, string jobId, CancellationToken cancellationToken)
    {
        if (!IdGenerator.IsWellFormed(jobId, "era"))
        {
            return null;
        }

        var found = await Table.GetEntityIfExistsAsync<ErasureJobRow>(partition, jobId, cancellationToken: cancellationToken);
        return found.HasValue ? found.Value : null;
    }

    /// <summary>The user's job still queued or running, if any: asking again while one runs answers with it.</summary>
    public async Task<ErasureJobRow?> FindUnfinishedAsync(string partition, CancellationToken cancellationToken)
    {
        await foreach (var job in Table.QueryAsync<ErasureJobRow>(TableClient.CreateQueryFilter(
            $"PartitionKey eq {partition} and (Status eq {ErasureStatus.Queued} or Status eq {ErasureStatus.Running})"), cancellationToken: cancellationToken))
        {
            return job;
        }

        return null;
    }

    /// <summary>Orgs that failed jobs of the user had not rewritten yet, so a new request finishes them.</summary>
    public async Task<List<string>> LeftOverAsync(string partition, CancellationToken cancellationToken)
    {
        var orgs = new List<string>();
        await foreach (var job in Table.QueryAsync<ErasureJobRow>(TableClient.CreateQueryFilter(
            $"PartitionKey eq {partition} and Status eq {ErasureStatus.Failed}"), cancellationToken: cancellationToken))
        {
            orgs.AddRange(job.OrgList.Skip(job.OrgsDone));
        }

        return orgs;
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the stored job with its ETag, again on a lost race, so two
    /// runs of one job never undo each other's progress; a change that returns false writes nothing.
    /// </summary>
    public Task<ErasureJobRow> UpdateAsync(ErasureJobRow job, Func<ErasureJobRow, bool> change, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RunAsync<ErasureJobRow>(ConcurrencyPolicy.Counted, async number =>
        {
            var current = number == 1 ? job : await FindAsync(job.PartitionKey, job.JobId, cancellationToken) ?? job;
            if (!change(current))
            {
                return Attempt.Done(current);
            }

            var response = await Table.UpdateEntityAsync(current, current.ETag, TableUpdateMode.Replace, cancellationToken);
            current.ETag = response.Headers.ETag ?? default;
            return Attempt.Done(current);
        }, cancellationToken);
}
