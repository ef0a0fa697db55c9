using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Microsoft.AspNetCore.DataProtection;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Problems;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Idempotency;

/// <summary>
/// Stores each keyed request's response in Table Storage. The insert of the key's row is the lock,
/// so of two concurrent duplicates exactly one runs; the row expires after 24 hours. Recorded bodies
/// are encrypted with Data Protection (bound to the key's scope): responses carry one-time secrets
/// (invitation tokens, API keys), and no secret is stored in plaintext.
/// </summary>
public sealed partial class IdempotencyMiddleware(
    RequestDelegate next, StorageAccount storage, TimeProvider time, IDataProtectionProvider dataProtection, ILogger<IdempotencyMiddleware> logger)
{
    public const string ProtectionPurpose = "RaptorFlow.Idempotency.RecordedResponse.v1";

    public const string KeyHeader = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotency-Replayed";

    private static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    // A request still "in flight" after this long belongs to a process that died; a retry may take over.
    private static readonly TimeSpan StaleLock = TimeSpan.FromMinutes(2);

    private const int ChunkBytes = 60 * 1024;
    private const int MaxChunks = 14;

    // Data Protection adds a key id, IV and MAC (well under 1 KiB).
    private const int ProtectionOverhead = 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        var keys = context.Request.Headers[KeyHeader];
        if (!HttpMethods.IsPost(context.Request.Method)
            || context.GetEndpoint()?.Metadata.GetMetadata<IdempotentEndpoint>() is null
            || !context.Request.Headers.ContainsKey(KeyHeader))
        {
            await next(context);
            return;
        }

        // Two headers (or one a proxy folded into a list) would otherwise be joined into one key "a,b".
        var key = keys.Count == 1 ? keys[0] ?? "" : "";
        if (key.Length is 0 or > 255 || key.Any(c => c is < ' ' or > '~' or ','))
        {
            await ApiProblem.WriteAsync(context, StatusCodes.Status400BadRequest, "idempotency.key_invalid", "The request is not valid.",
                $"{KeyHeader} must be sent once, as 1-255 printable ASCII characters other than a comma.");
            return;
        }

        var caller = context.FindCaller();
        if (caller is null)
        {
            await next(context);
            return;
        }

        context.Request.EnableBuffering();
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        context.Request.Body.Position = 0;

        var orgId = context.Request.RouteValues.TryGetValue(CapabilityEndpointExtensions.OrgIdRouteValue, out var o) ? o as string ?? "" : "";
        var partition = Hash(Encoding.UTF8.GetBytes($"{caller.Reference}\n{orgId}\n{key}"));
        var fingerprint = Fingerprint(context.Request, body.ToArray());
        var table = storage.Table(IdempotencyRegistration.TableName);

        var claim = await ClaimAsync(table, partition, fingerprint, context.RequestAborted);
        switch (claim.Outcome)
        {
            case ClaimOutcome.Mismatch:
                await ApiProblem.WriteAsync(context, StatusCodes.Status422UnprocessableEntity, "idempotency.key_reused", "Idempotency key reused.",
                    $"This {KeyHeader} was already used with a different request; use a new key for a new request.");
                return;
            case ClaimOutcome.InFlight:
                context.Response.Headers.RetryAfter = "1";
                await ApiProblem.WriteAsync(context, StatusCodes.Status409Conflict, "idempotency.in_flight", "Conflict.",
                    $"A request with this {KeyHeader} is still being processed; retry shortly.");
                return;
            case ClaimOutcome.Replay:
                await ReplayAsync(context, claim.Row!);
                return;
        }

        await RunAndRecordAsync(context, table, claim.Row!);
    }

    private async Task RunAndRecordAsync(HttpContext context, TableClient table, TableEntity row)
    {
        var original = context.Response.Body;
        using var captured = new MemoryStream();
        context.Response.Body = captured;
        var recorded = false;
        try
        {
            await next(context);
            var status = context.Response.StatusCode;
            if (status < 500 && captured.Length <= (ChunkBytes * MaxChunks) - ProtectionOverhead)
            {
                var bytes = Protector(row.PartitionKey).Protect(captured.ToArray());
                var done = new TableEntity(row.PartitionKey, row.RowKey)
                {
                    ["State"] = "done",
                    ["Fingerprint"] = row["Fingerprint"],
                    ["ExpiresAt"] = row["ExpiresAt"],
                    ["Status"] = status,
                    ["ContentType"] = context.Response.ContentType,
                    ["Location"] = context.Response.Headers.Location.ToString(),
                    ["ETagHeader"] = context.Response.Headers.ETag.ToString(),
                    ["Chunks"] = (bytes.Length + ChunkBytes - 1) / ChunkBytes,
                    ["Protected"] = true,
                };
                for (var i = 0; i * ChunkBytes < bytes.Length; i++)
                {
                    done[$"Body{i}"] = bytes.AsSpan(i * ChunkBytes, Math.Min(ChunkBytes, bytes.Length - (i * ChunkBytes))).ToArray();
                }

                // Not the request's token: the outcome is decided, so its record must be kept.
                await table.UpdateEntityAsync(done, row.ETag, TableUpdateMode.Replace, CancellationToken.None);
                recorded = true;
            }
        }
        finally
        {
            context.Response.Body = original;
            if (!recorded)
            {
                await ReleaseAsync(table, row);
            }
        }

        captured.Position = 0;
        await captured.CopyToAsync(original, context.RequestAborted);
    }

    /// <summary>A failed attempt leaves nothing behind, so the client's retry runs again.</summary>
    private async Task ReleaseAsync(TableClient table, TableEntity row)
    {
        try
        {
            await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, CancellationToken.None);
        }
        catch (RequestFailedException ex)
        {
            LogReleaseFailed(logger, ex, ex.Status);
        }
    }

    private async Task<Claim> ClaimAsync(TableClient table, string partition, string fingerprint, CancellationToken cancellationToken)
    {
        return await OptimisticConcurrency.RunAsync<Claim>(
            ConcurrencyPolicy.Claim,
            async _ =>
            {
                var now = time.GetUtcNow();
                var fresh = new TableEntity(partition, "")
                {
                    ["State"] = "in_flight",
                    ["Fingerprint"] = fingerprint,
                    ["LockedAt"] = now,
                    ["ExpiresAt"] = now + Retention,
                };
                try
                {
                    var added = await table.AddEntityAsync(fresh, cancellationToken);
                    fresh.ETag = added.Headers.ETag ?? ETag.All;
                    return new Claim(ClaimOutcome.Claimed, fresh);
                }
                catch (RequestFailedException ex) when (ex.Status == 409)
                {
                }

                TableEntity existing;
                try
                {
                    existing = (await table.GetEntityAsync<TableEntity>(partition, "", cancellationToken: cancellationToken)).Value;
                }
                catch (RequestFailedException ex) when (ex.Status == 404)
                {
                    return Attempt.LostRace<Claim>();
                }

                var expired = existing.GetDateTimeOffset("ExpiresAt") is not { } expires || expires <= now;
                var stale = existing.GetString("State") == "in_flight" && existing.GetDateTimeOffset("LockedAt") is { } locked && locked + StaleLock <= now;
                if (!expired && existing.GetString("Fingerprint") != fingerprint)
                {
                    return new Claim(ClaimOutcome.Mismatch, existing);
                }

                if (!expired && !stale)
                {
                    return new Claim(existing.GetString("State") == "done" ? ClaimOutcome.Replay : ClaimOutcome.InFlight, existing);
                }

                try
                {
                    var replaced = await table.UpdateEntityAsync(fresh, existing.ETag, TableUpdateMode.Replace, cancellationToken);
                    fresh.ETag = replaced.Headers.ETag ?? ETag.All;
                    return new Claim(ClaimOutcome.Claimed, fresh);
                }
                catch (RequestFailedException ex) when (ex.Status is 412 or 404)
                {
                    return Attempt.LostRace<Claim>();
                }
            },
            cancellationToken,
            exhausted: () => new Claim(ClaimOutcome.InFlight, null));
    }

    /// <summary>A protector per key scope, so a recorded body decrypts only for the caller, org and key it was recorded under.</summary>
    private IDataProtector Protector(string partition) => dataProtection.CreateProtector(ProtectionPurpose, partition);

    private async Task ReplayAsync(HttpContext context, TableEntity row)
    {
        var response = context.Response;
        response.StatusCode = row.GetInt32("Status") ?? StatusCodes.Status200OK;
        response.Headers[ReplayedHeader] = "true";
        if (row.GetString("ContentType") is { Length: > 0 } contentType)
        {
            response.ContentType = contentType;
        }

        if (row.GetString("Location") is { Length: > 0 } location)
        {
            response.Headers.Location = location;
        }

        if (row.GetString("ETagHeader") is { Length: > 0 } etag)
        {
            response.Headers.ETag = etag;
        }

        var chunks = row.GetInt32("Chunks") ?? 0;
        var writer = new ArrayBufferWriter<byte>();
        for (var i = 0; i < chunks; i++)
        {
            writer.Write(row.GetBinary($"Body{i}"));
        }

        // Records written before bodies were encrypted (at most 24 hours old) replay as they are.
        var body = row.GetBoolean("Protected") == true ? Protector(row.PartitionKey).Unprotect(writer.WrittenSpan.ToArray()) : writer.WrittenSpan.ToArray();
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, context.RequestAborted);
    }

    private static string Fingerprint(HttpRequest request, byte[] body)
    {
        var head = Encoding.UTF8.GetBytes($"{request.Method} {request.Path}{request.QueryString}\n");
        return Hash([.. head, .. body]);
    }

    private static string Hash(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private enum ClaimOutcome
    {
        Claimed,
        Replay,
        Mismatch,
        InFlight,
    }

    private sealed record Claim(ClaimOutcome Outcome, TableEntity? Row);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release an idempotency key after a failed request (status {Status}); it frees itself when its lock goes stale")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, int status);
}
