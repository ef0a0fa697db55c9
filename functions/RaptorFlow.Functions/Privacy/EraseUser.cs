using RaptorFlow.Functions.Hosting;

namespace RaptorFlow.Functions.Privacy;

/// <summary>
/// Queue function on <c>erase-user</c>: runs one large erasure. Each org finished is recorded on the
/// job before the next begins, so a redelivery after a crash resumes there; every step is
/// idempotent, so a duplicate message running at the same time rewrites nothing twice. A finished
/// job is left alone. Whom the job erases is read from its row; the last attempt before the poison
/// queue clears it from the row before it works (if it fails, or the process dies, nothing of the user
/// is left behind) and marks the job failed if it does not finish.
/// </summary>
public sealed partial class EraseUser(ErasureBook book, UserErasure erasure, TimeProvider time, ILogger<EraseUser> logger) : IQueueFunction
{
    public const string FunctionName = "EraseUser";

    /// <summary>The Functions host's and the standalone poller's <c>maxDequeueCount</c>.</summary>
    private const int LastAttempt = 5;

    private const string ResumeError = "The erasure could not finish; request it again to resume.";

    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        var work = message.TryReadJson<ErasureMessage>(PrivacyJson.Options);
        if (work is not { Partition.Length: > 0, JobId.Length: > 0 }
            || await book.FindAsync(work.Partition, work.JobId, cancellationToken) is not { } job)
        {
            LogUnknown(logger, message.MessageId);
            return;
        }

        if (job.IsFinished)
        {
            return;
        }

        if (job.Subject is not { } user || UserErasure.PseudonymOf(user.UserId) != job.PartitionKey)
        {
            // Its last attempt began before this delivery (and forgot the user): only a new request can resume it.
            await book.UpdateAsync(job, j => Finish(j, ErasureStatus.Failed, ResumeError), CancellationToken.None);
            LogNoSubject(logger, job.JobId);
            return;
        }

        try
        {
            var last = message.DequeueCount >= LastAttempt;
            job = await book.UpdateAsync(job, j => !j.IsFinished && (j.Status != ErasureStatus.Running || (last && j.Subject is not null)) && Set(j, ErasureStatus.Running, last), cancellationToken);
            var lastOwnerOf = await erasure.CarryOutAsync(
                user, job.OrgList, job.OrgsDone, job.JobId, job.CreatedAt,
                async done => job = await book.UpdateAsync(job, j => Advance(j, done), cancellationToken),
                cancellationToken);
            var error = lastOwnerOf is null ? null : $"The user became the last owner of {lastOwnerOf} meanwhile; transfer ownership or delete it, then erase again.";
            job = await book.UpdateAsync(job, j => Finish(j, error is null ? ErasureStatus.Done : ErasureStatus.Failed, error), cancellationToken);
            LogFinished(logger, job.JobId, job.Status, job.OrgsDone);
        }
        catch (Exception ex) when (message.DequeueCount >= LastAttempt && ex is not OperationCanceledException)
        {
            await book.UpdateAsync(job, j => Finish(j, ErasureStatus.Failed, ResumeError), CancellationToken.None);
            LogFailed(logger, ex, job.JobId);
            throw;
        }
    }

    /// <summary>Ends the job (unless it ended already) and forgets whom it erased.</summary>
    private bool Finish(ErasureJobRow job, string status, string? error)
    {
        if (job.IsFinished)
        {
            return job.ForgetSubject();
        }

        job.Status = status;
        job.Error = error;
        job.CompletedAt = time.GetUtcNow();
        job.ForgetSubject();
        return true;
    }

    /// <summary>Running; on the last attempt without the user, whom the attempt holds in memory alone.</summary>
    private static bool Set(ErasureJobRow job, string status, bool last)
    {
        job.Status = status;
        if (last)
        {
            job.ForgetSubject();
        }

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

    [LoggerMessage(Level = LogLevel.Error, Message = "Erasure {JobId} no longer holds whom it erases (its last attempt began earlier); marked failed")]
    private static partial void LogNoSubject(ILogger logger, string jobId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Queue message {MessageId} on the erase-user queue names no erasure; completed without erasing")]
    private static partial void LogUnknown(ILogger logger, string? messageId);
}
