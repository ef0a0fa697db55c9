using Azure;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Problems;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.ApiKeys;

public sealed record CreateApiKeyRequest(
    string? Name, string[]? Capabilities, DateTimeOffset? ExpiresAt, string[]? AllowedCidrs, int? RateLimitPerMinute, ApiKeyMode? Mode);

public sealed record RollApiKeyRequest(int? ExpireOldInSeconds);

public enum ApiKeyState
{
    Active,
    Expired,
    Revoked,
}

/// <summary>A key as listed: never its secret, only the prefix that names it.</summary>
public sealed record ApiKeyResponse(
    string Id,
    string OrgId,
    string Name,
    string Prefix,
    ApiKeyMode Mode,
    IReadOnlyList<string> Capabilities,
    IReadOnlyList<string> AllowedCidrs,
    int? RateLimitPerMinute,
    ApiKeyState Status,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RolledAt,
    DateTimeOffset? PreviousKeyExpiresAt,
    DateTimeOffset? RevokedAt);

/// <summary>A key and its secret, which is shown this once and never again.</summary>
public sealed record IssuedApiKeyResponse(ApiKeyResponse ApiKey, string Key);

/// <summary>
/// Keys of an org. Create and roll are not replayed by <c>Idempotency-Key</c>: a replay would have
/// to keep the secret at rest, and only its hash may be stored.
/// </summary>
public static class ApiKeysApi
{
    public const int MaxNameLength = 100;
    public const int MaxCidrs = 32;
    public const int MaxRateLimitPerMinute = 1_000_000;
    public const int MaxOverlapSeconds = 7 * 24 * 3600;

    public static IEndpointRouteBuilder MapApiKeyRoutes(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/orgs/{orgId}/api-keys").WithTags("API keys");

        api.MapPost("/", CreateAsync).RequireCapability(Capability.ApiKeysManage).WithIdempotency()
            .WithName("CreateApiKey").WithSummary("Issues a key with a subset of the caller's capabilities; the secret is in `key`, shown this once.");
        api.MapGet("/", ListAsync).RequireCapability(Capability.ApiKeysManage)
            .WithName("ListApiKeys").WithSummary("The org's keys, oldest first, paginated; never their secrets.");
        api.MapGet("/{keyId}", GetAsync).RequireCapability(Capability.ApiKeysManage)
            .WithName("GetApiKey").WithSummary("One key, with an ETag; never its secret.");
        api.MapPost("/{keyId}/roll", RollAsync).RequireCapability(Capability.ApiKeysManage).WithIdempotency()
            .WithName("RollApiKey").WithSummary("Issues a new secret now; the old one keeps working for expireOldInSeconds (0 = stops at once). Honours If-Match.");
        api.MapDelete("/{keyId}", RevokeAsync).RequireCapability(Capability.ApiKeysManage)
            .WithName("RevokeApiKey").WithSummary("Revokes a key at once. Honours If-Match.");

        return routes;
    }

    public static async Task<Results<Created<IssuedApiKeyResponse>, ProblemHttpResult>> CreateAsync(
        string orgId, CreateApiKeyRequest request, HttpContext context, StorageAccount storage, AuditLog audit, IdGenerator ids, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var errors = new Dictionary<string, string[]>();
        var name = FieldRules.Text(request.Name, "name", MaxNameLength, errors, required: true);
        var capabilities = ValidCapabilities(request.Capabilities, errors);
        var cidrs = ValidCidrs(request.AllowedCidrs, errors);
        if (request.ExpiresAt is { } expires && (expires <= now || expires > now.AddYears(10)))
        {
            errors["expiresAt"] = ["Must be in the future and within 10 years."];
        }

        if (request.RateLimitPerMinute is < 1 or > MaxRateLimitPerMinute)
        {
            errors["rateLimitPerMinute"] = [$"From 1 to {MaxRateLimitPerMinute}."];
        }

        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }

        var held = context.GetOrgAccess().Capabilities;
        var lacking = capabilities.Where(c => !held.Contains(c)).ToList();
        if (lacking.Count > 0)
        {
            return ApiProblem.Forbidden("api_key.capability_not_held",
                $"A key cannot carry a capability its creator lacks: {string.Join(", ", lacking)}.");
        }

        var keyId = ids.New("key");
        var mode = request.Mode ?? ApiKeyMode.Live;
        var secret = ApiKeyToken.Issue(keyId, mode);
        var hash = ApiKeyToken.HashHex(ApiKeyToken.Hash(secret));
        var row = new ApiKeyRow
        {
            PartitionKey = orgId,
            RowKey = keyId,
            Name = name!,
            Mode = mode == ApiKeyMode.Test ? "test" : "live",
            DisplayPrefix = secret[..ApiKeyToken.DisplayPrefixLength],
            Capabilities = string.Join(' ', capabilities),
            AllowedCidrs = string.Join(' ', cidrs),
            RateLimitPerMinute = request.RateLimitPerMinute,
            Status = "active",
            CreatedBy = context.GetCaller().Reference,
            CreatedAt = now,
            ExpiresAt = request.ExpiresAt?.ToUniversalTime(),
            SecretHash = hash,
        };

        // The index entry first: alone it names a key row that does not exist, which verification treats as unknown.
        await storage.Table(ApiKeyHashRow.TableName).AddEntityAsync(new ApiKeyHashRow { PartitionKey = hash, RowKey = "", OrgId = orgId, KeyId = keyId }, CancellationToken.None);
        var added = await storage.Table(ApiKeyRow.TableName).AddEntityAsync(row, CancellationToken.None);
        row.ETag = added.Headers.ETag ?? default;

        await audit.RecordAsync(context, orgId, new AuditEntry("api_key.created", "api_key", keyId, new Dictionary<string, AuditChange>
        {
            ["name"] = new(null, row.Name),
            ["mode"] = new(null, row.Mode),
            ["capabilities"] = new(null, row.Capabilities),
            ["allowedCidrs"] = new(null, row.AllowedCidrs),
            ["rateLimitPerMinute"] = new(null, row.RateLimitPerMinute?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ["expiresAt"] = new(null, row.ExpiresAt?.ToString("O")),
        }));
        context.SetETag(row.ETag);
        return TypedResults.Created($"/api/v1/orgs/{orgId}/api-keys/{keyId}", new IssuedApiKeyResponse(ToResponse(row, null, now), secret));
    }

    public static async Task<Ok<CursorPage<ApiKeyResponse>>> ListAsync(
        string orgId, PageRequest page, StorageAccount storage, KeyLastUse lastUse, TimeProvider time, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {orgId}");
        var (rows, next) = await storage.Table(ApiKeyRow.TableName).ReadPageAsync<ApiKeyRow>(filter, page, cancellationToken);
        var used = rows.Count == 0
            ? new Dictionary<string, DateTimeOffset>()
            : await lastUse.ReadAsync(orgId, rows[0].KeyId, rows[^1].KeyId, cancellationToken);
        var now = time.GetUtcNow();
        return TypedResults.Ok(new CursorPage<ApiKeyResponse>(
            [.. rows.Select(r => ToResponse(r, used.TryGetValue(r.KeyId, out var at) ? at : null, now))], next));
    }

    public static async Task<Results<Ok<ApiKeyResponse>, ProblemHttpResult>> GetAsync(
        string orgId, string keyId, HttpContext context, StorageAccount storage, KeyLastUse lastUse, TimeProvider time, CancellationToken cancellationToken)
    {
        var row = await FindAsync(storage, orgId, keyId, cancellationToken);
        if (row is null)
        {
            return KeyNotFound();
        }

        var used = await lastUse.ReadAsync(orgId, keyId, keyId, cancellationToken);
        context.SetETag(row.ETag);
        return TypedResults.Ok(ToResponse(row, used.TryGetValue(keyId, out var at) ? at : null, time.GetUtcNow()));
    }

    public static async Task<Results<Ok<IssuedApiKeyResponse>, ProblemHttpResult>> RollAsync(
        string orgId, string keyId, RollApiKeyRequest request, HttpContext context, StorageAccount storage, ApiKeyVerifier verifier,
        AuditLog audit, TimeProvider time)
    {
        if (request.ExpireOldInSeconds is not { } overlap || overlap is < 0 or > MaxOverlapSeconds)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]>
            {
                ["expireOldInSeconds"] = [$"Required: seconds the old secret keeps working, from 0 (stops at once) to {MaxOverlapSeconds}."],
            });
        }

        var ifMatch = context.IfMatch();
        return await OptimisticConcurrency.RunAsync<Results<Ok<IssuedApiKeyResponse>, ProblemHttpResult>>(
            ConcurrencyPolicy.Edit,
            async _ =>
            {
                var row = await FindAsync(storage, orgId, keyId, CancellationToken.None);
                if (row is null)
                {
                    return Attempt.Done<Results<Ok<IssuedApiKeyResponse>, ProblemHttpResult>>(KeyNotFound());
                }

                if (!ifMatch.Matches(row.ETag))
                {
                    return Attempt.Done<Results<Ok<IssuedApiKeyResponse>, ProblemHttpResult>>(ApiProblem.PreconditionFailed());
                }

                var now = time.GetUtcNow();
                if (StateOf(row, now) != ApiKeyState.Active)
                {
                    return Attempt.Done<Results<Ok<IssuedApiKeyResponse>, ProblemHttpResult>>(ApiProblem.Conflict("api_key.not_active", "Only an active key can be rolled; this one is revoked or expired."));
                }

                var secret = ApiKeyToken.Issue(keyId, row.ParsedMode);
                var hash = ApiKeyToken.HashHex(ApiKeyToken.Hash(secret));
                var replaced = row.PreviousSecretHash;
                var oldExpiresAt = now.AddSeconds(overlap);
                row.PreviousSecretHash = overlap > 0 ? row.SecretHash : null;
                row.PreviousSecretExpiresAt = overlap > 0 ? oldExpiresAt : null;
                var retired = overlap > 0 ? replaced : row.SecretHash;
                row.SecretHash = hash;
                row.DisplayPrefix = secret[..ApiKeyToken.DisplayPrefixLength];
                row.RolledAt = now;

                // The new secret's index entry first: until the key row names its hash it authenticates nothing.
                await storage.Table(ApiKeyHashRow.TableName).AddEntityAsync(new ApiKeyHashRow { PartitionKey = hash, RowKey = "", OrgId = orgId, KeyId = keyId }, CancellationToken.None);
                try
                {
                    var updated = await storage.Table(ApiKeyRow.TableName).UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, CancellationToken.None);
                    row.ETag = updated.Headers.ETag ?? default;
                }
                catch (RequestFailedException ex) when (ex.Status == 412)
                {
                    await DeleteIndexAsync(storage, hash);
                    if (ifMatch is not null)
                    {
                        return Attempt.Done<Results<Ok<IssuedApiKeyResponse>, ProblemHttpResult>>(ApiProblem.PreconditionFailed());
                    }

                    throw;
                }

                verifier.Forget(keyId);
                if (retired is not null)
                {
                    // The key row no longer names it, so the entry is already inert; this only tidies.
                    await DeleteIndexAsync(storage, retired);
                }

                await audit.RecordAsync(context, orgId, new AuditEntry("api_key.rolled", "api_key", keyId, new Dictionary<string, AuditChange>
                {
                    ["oldSecretExpiresAt"] = new(null, oldExpiresAt.ToString("O")),
                }));
                context.SetETag(row.ETag);
                return Attempt.Done<Results<Ok<IssuedApiKeyResponse>, ProblemHttpResult>>(TypedResults.Ok(new IssuedApiKeyResponse(ToResponse(row, null, now), secret)));
            },
            CancellationToken.None);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(
        string orgId, string keyId, HttpContext context, StorageAccount storage, ApiKeyVerifier verifier, AuditLog audit, TimeProvider time)
    {
        var ifMatch = context.IfMatch();
        return await OptimisticConcurrency.RunAsync<Results<NoContent, ProblemHttpResult>>(
            ConcurrencyPolicy.Edit,
            async _ =>
            {
                var row = await FindAsync(storage, orgId, keyId, CancellationToken.None);
                if (row is null)
                {
                    return Attempt.Done<Results<NoContent, ProblemHttpResult>>(KeyNotFound());
                }

                if (!ifMatch.Matches(row.ETag))
                {
                    return Attempt.Done<Results<NoContent, ProblemHttpResult>>(ApiProblem.PreconditionFailed());
                }

                if (row.ParsedStatus == ApiKeyStatus.Revoked)
                {
                    return Attempt.Done<Results<NoContent, ProblemHttpResult>>(TypedResults.NoContent());
                }

                row.Status = "revoked";
                row.RevokedAt = time.GetUtcNow();
                try
                {
                    await storage.Table(ApiKeyRow.TableName).UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, CancellationToken.None);
                }
                catch (RequestFailedException ex) when (ex.Status == 412)
                {
                    // Without If-Match a lost race is retried; with it, the caller's version is gone.
                    return ifMatch is null ? Attempt.LostRace<Results<NoContent, ProblemHttpResult>>() : Attempt.Done<Results<NoContent, ProblemHttpResult>>(ApiProblem.PreconditionFailed());
                }

                verifier.Forget(keyId);
                await audit.RecordAsync(context, orgId, new AuditEntry("api_key.revoked", "api_key", keyId,
                    new Dictionary<string, AuditChange> { ["status"] = new("active", "revoked") }));
                return Attempt.Done<Results<NoContent, ProblemHttpResult>>(TypedResults.NoContent());
            },
            CancellationToken.None,
            exhausted: () => ApiProblem.PreconditionFailed());
    }

    private static async Task<ApiKeyRow?> FindAsync(StorageAccount storage, string orgId, string keyId, CancellationToken cancellationToken)
    {
        if (!IdGenerator.IsWellFormed(keyId, "key"))
        {
            return null;
        }

        var found = await storage.Table(ApiKeyRow.TableName).GetEntityIfExistsAsync<ApiKeyRow>(orgId, keyId, cancellationToken: cancellationToken);
        return found.HasValue ? found.Value : null;
    }

    private static async Task DeleteIndexAsync(StorageAccount storage, string hash)
    {
        try
        {
            await storage.Table(ApiKeyHashRow.TableName).DeleteEntityAsync(hash, "", ETag.All, CancellationToken.None);
        }
        catch (RequestFailedException)
        {
            // Inert without the key row naming it; a failed tidy-up is harmless.
        }
    }

    private static List<string> ValidCapabilities(string[]? requested, Dictionary<string, string[]> errors)
    {
        if (requested is null || requested.Length == 0)
        {
            errors["capabilities"] = ["Required: at least one capability."];
            return [];
        }

        var unknown = requested.Where(c => c is null || !Capability.OrgScoped.Contains(c)).ToList();
        if (unknown.Count > 0)
        {
            errors["capabilities"] = [$"Not org capabilities a key can carry: {string.Join(", ", unknown.Select(c => c is null ? "null" : Clip(c)))}."];
            return [];
        }

        return [.. requested.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    private static List<string> ValidCidrs(string[]? requested, Dictionary<string, string[]> errors)
    {
        if (requested is null)
        {
            return [];
        }

        if (requested.Length > MaxCidrs)
        {
            errors["allowedCidrs"] = [$"At most {MaxCidrs} blocks."];
            return [];
        }

        var blocks = new List<string>();
        var bad = new List<string>();
        foreach (var text in requested)
        {
            if (CidrBlock.TryParse(text?.Trim(), out var block))
            {
                blocks.Add(block!.ToString());
            }
            else
            {
                bad.Add(text is null ? "null" : Clip(text));
            }
        }

        if (bad.Count > 0)
        {
            errors["allowedCidrs"] = [$"Not IPv4 or IPv6 CIDR blocks: {string.Join(", ", bad)}."];
        }

        return [.. blocks.Distinct(StringComparer.Ordinal)];
    }

    private static string Clip(string value) => value.Length > 40 ? value[..40] + "…" : value;

    private static ApiKeyState StateOf(ApiKeyRow row, DateTimeOffset now) =>
        row.ParsedStatus == ApiKeyStatus.Revoked ? ApiKeyState.Revoked
        : row.ExpiresAt is { } expires && now >= expires ? ApiKeyState.Expired
        : ApiKeyState.Active;

    private static ApiKeyResponse ToResponse(ApiKeyRow row, DateTimeOffset? lastUsedAt, DateTimeOffset now) => new(
        row.KeyId, row.OrgId, row.Name, row.DisplayPrefix, row.ParsedMode, row.CapabilityList, row.CidrList, row.RateLimitPerMinute,
        StateOf(row, now), row.CreatedBy, row.CreatedAt, row.ExpiresAt, lastUsedAt, row.RolledAt,
        row.PreviousSecretHash is not null && row.PreviousSecretExpiresAt > now ? row.PreviousSecretExpiresAt : null, row.RevokedAt);

    private static ProblemHttpResult KeyNotFound() => ApiProblem.NotFound("api_key.not_found", "No API key with this id in this organization.");
}
