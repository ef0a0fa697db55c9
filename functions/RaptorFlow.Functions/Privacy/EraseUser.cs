using RaptorFlow.Functions.Hosting;

namespace RaptorFlow.Functions.Privacy;

/// <summary>
/// Queue function on <c>erase-user</c>: runs one large erasure. Each org finished is recorded on the
/// job before the next begins, so a redelivery after a crash resumes there; every step is
/// idempotent, so a duplicate message running at the same time rewrites nothing twice. A finished
/// job is left alone; the last attempt before the poison queue marks it failed.
/// </summary>
public sealed partial class EraseUser(ErasureBook book, UserErasure erasure, TimeProvider time, ILogger<EraseUser> logger) : IQueueFunction
{
    public const string FunctionName = "EraseUser";

    /// <summary>The Functions host's and the standalone poller's <c>maxDequeueCount</c>.</summary>
    private const int LastAttempt = 5;

    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        var work = message.TryReadJson<ErasureMessage>(PrivacyJson.Options);
        if (work is not { Partition.Length: > 0, JobId.Length: > 0, UserId.Length: > 0 }
            || UserErasure.PseudonymOf(work.UserId) != work.Partition
            || await book.FindAsync(work.Partition, work.JobId, cancellationToken) is not { } job)
        {
            LogUnknown(logger, message.MessageId);
            return;
        }

        if (job.IsFinished)
        {
            return;
        }

        try
        {
            job = await book.UpdateAsync(job, j => !j.IsFinished && j.Status != ErasureStatus.Running && Set(j, ErasureStatus.Running), cancellationToken);
            var lastOwnerOf = await erasure.CarryOutAsync(
                new ErasureSubject(work.UserId, work.Email, work.Name), job.OrgList, job.OrgsDone, job.JobId, job.CreatedAt,
                async done => job = await book.UpdateAsync(job, j => Advance(j, done), cancellationToken),
                cancellationToken);
            var error = lastOwnerOf is null ? null : $"The user became the last owner of {lastOwnerOf} meanwhile; transfer ownership or delete it, then erase again.";
            job = await book.UpdateAsync(job, j =>
            {
                if (j.IsFinished)
                {
                    return false;
                }

                j.Status = error is null ? ErasureStatus.Done : ErasureStatus.Failed;
                j.Error = error;
                j.CompletedAt = time.GetUtcNow();
                return true;
            }, cancellationToken);
            LogFinished(logger, job.JobId, job.Status, job.OrgsDone);
        }
        catch (Exception ex) when (message.DequeueCount >= LastAttempt && ex is not OperationCanceledException)
        {
            await book.UpdateAsync(job, j =>
            {
                if (j.IsFinished)
                {
                    return false;
                }

                j.Status = ErasureStatus.Failed;
                j.Error = "The erasure could not finish; request it again to resume.";
                j.CompletedAt = time.GetUtcNow();
                return true;
            }, CancellationToken.None);
            LogFailed(logger, ex, job.JobId);
            throw;
        }
    }

    private static bool Set(ErasureJobRow job, string status)
    {
        job.Status = status;
        return true;
    }

    /// <summary>Progress only moves forward, whichever of two runs of the job reports last.</summary>
    private static bool Advance(ErasureJobRow job, int orgsDone)
    {
        if (job.OrgsDone >= orgsDone)
        {
            return false;
        }

        job.OrgsDone = orgsDone;
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Erasure {JobId} finished as {Status} after {OrgsDone} orgs")]
    private static partial void LogFinished(ILogger logger, string jobId, string status, int orgsDone);

    [LoggerMessage(Level = LogLevel.Error, Message = "Erasure {JobId} failed on its last attempt")]
    private static partial void LogFailed(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Queue message {MessageId} on the erase-user queue names no erasure; completed without erasing")]
    private static partial void LogUnknown(ILogger logger, string? messageId);
}
