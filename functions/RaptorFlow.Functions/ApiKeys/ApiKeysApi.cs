using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Http;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Problems;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>
/// Keys of an org: each handler validates, asks <see cref="ApiKeyRing"/>, and maps its outcome to a
/// response. A replayed create or roll shows the secret again from the idempotency record, which is
/// encrypted; the ring itself keeps only the secret's hash.
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
            .WithName("RollApiKey").WithSummary("Issues a new secret now; the old one keeps working for expireOldInSeconds (0 = stops at once). Honours If-Match.").HonoursIfMatch();
        api.MapDelete("/{keyId}", RevokeAsync).RequireCapability(Capability.ApiKeysManage)
            .WithName("RevokeApiKey").WithSummary("Revokes a key at once. Honours If-Match.").HonoursIfMatch();

        return routes;
    }

    public static async Task<Results<Created<IssuedApiKeyResponse>, ProblemHttpResult>> CreateAsync(
        string orgId, CreateApiKeyRequest request, HttpContext context, ApiKeyRing ring, AuditLog audit, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var errors = new Dictionary<string, string[]>();
        var draft = ValidDraft(request, context.GetCaller(), now, errors);
        if (draft is null)
        {
            return ApiProblem.Validation(errors);
        }

        var held = context.GetOrgAccess().Capabilities;
        var lacking = draft.Capabilities.Where(c => !held.Contains(c)).ToList();
        if (lacking.Count > 0)
        {
            return ApiProblem.Forbidden("api_key.capability_not_held",
                $"A key cannot carry a capability its creator lacks: {string.Join(", ", lacking)}.");
        }

        var (row, secret) = Issued(await ring.CreateAsync(orgId, draft));
        await audit.RecordAsync(context, orgId, CreatedEntry(row));
        context.SetETag(row.ETag);
        return TypedResults.Created($"/api/v1/orgs/{orgId}/api-keys/{row.KeyId}", new IssuedApiKeyResponse(ToResponse(row, null, now), secret));
    }

    public static async Task<Ok<CursorPage<ApiKeyResponse>>> ListAsync(
        string orgId, PageRequest page, ApiKeyRing ring, KeyLastUse lastUse, TimeProvider time, CancellationToken cancellationToken)
    {
        var (rows, next) = await ring.ListAsync(orgId, page, cancellationToken);
        var used = rows.Count == 0
            ? new Dictionary<string, DateTimeOffset>()
            : await lastUse.ReadAsync(orgId, rows[0].KeyId, rows[^1].KeyId, cancellationToken);
        var now = time.GetUtcNow();
        return TypedResults.Ok(new CursorPage<ApiKeyResponse>(
            [.. rows.Select(r => ToResponse(r, used.TryGetValue(r.KeyId, out var at) ? at : null, now))], next));
    }

    public static async Task<Results<Ok<ApiKeyResponse>, ProblemHttpResult>> GetAsync(
        string orgId, string keyId, HttpContext context, ApiKeyRing ring, KeyLastUse lastUse, TimeProvider time, CancellationToken cancellationToken)
    {
        var row = await ring.FindAsync(orgId, keyId, cancellationToken);
        if (row is null)
        {
            return KeyNotFound();
        }

        var used = await lastUse.ReadAsync(orgId, keyId, keyId, cancellationToken);
        context.SetETag(row.ETag);
        return TypedResults.Ok(ToResponse(row, used.TryGetValue(keyId, out var at) ? at : null, time.GetUtcNow()));
    }

    public static async Task<Results<Ok<IssuedApiKeyResponse>, ProblemHttpResult>> RollAsync(
        string orgId, string keyId, RollApiKeyRequest request, HttpContext context, ApiKeyRing ring, AuditLog audit)
    {
        if (request.ExpireOldInSeconds is not { } overlap || overlap is < 0 or > MaxOverlapSeconds)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]>
            {
                ["expireOldInSeconds"] = [$"Required: seconds the old secret keeps working, from 0 (stops at once) to {MaxOverlapSeconds}."],
            });
        }

        var change = await ring.RollAsync(orgId, keyId, context.IfMatch(), TimeSpan.FromSeconds(overlap));
        if (change.Outcome != KeyChangeOutcome.Done)
        {
            return Refused(change.Outcome);
        }

        var (row, secret) = Issued(change);
        var rolledAt = row.RolledAt!.Value;
        await audit.RecordAsync(context, orgId, new AuditEntry("api_key.rolled", "api_key", keyId, new Dictionary<string, AuditChange>
        {
            ["oldSecretExpiresAt"] = new(null, rolledAt.AddSeconds(overlap).ToString("O")),
        }));
        context.SetETag(row.ETag);
        return TypedResults.Ok(new IssuedApiKeyResponse(ToResponse(row, null, rolledAt), secret));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(
        string orgId, string keyId, HttpContext context, ApiKeyRing ring, AuditLog audit)
    {
        var change = await ring.RevokeAsync(orgId, keyId, context.IfMatch());
        if (change.Outcome is not (KeyChangeOutcome.Done or KeyChangeOutcome.Unchanged))
        {
            return Refused(change.Outcome);
        }

        if (change.Outcome == KeyChangeOutcome.Done)
        {
            await audit.RecordAsync(context, orgId, new AuditEntry("api_key.revoked", "api_key", keyId,
                new Dictionary<string, AuditChange> { ["status"] = new("active", "revoked") }));
        }

        return TypedResults.NoContent();
    }

    /// <summary>The request as a key to issue, or null with <paramref name="errors"/> naming each bad field.</summary>
    private static ApiKeyDraft? ValidDraft(CreateApiKeyRequest request, Caller creator, DateTimeOffset now, Dictionary<string, string[]> errors)
    {
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

        return errors.Count > 0
            ? null
            : new ApiKeyDraft(name!, request.Mode ?? ApiKeyMode.Live, capabilities, cidrs, request.RateLimitPerMinute, request.ExpiresAt, creator.Reference);
    }

    private static AuditEntry CreatedEntry(ApiKeyRow row) => new("api_key.created", "api_key", row.KeyId, new Dictionary<string, AuditChange>
    {
        ["name"] = new(null, row.Name),
        ["mode"] = new(null, row.Mode),
        ["capabilities"] = new(null, row.Capabilities),
        ["allowedCidrs"] = new(null, row.AllowedCidrs),
        ["rateLimitPerMinute"] = new(null, row.RateLimitPerMinute?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ["expiresAt"] = new(null, row.ExpiresAt?.ToString("O")),
    });

    /// <summary>A create or roll that is done carries the key and its new secret.</summary>
    private static (ApiKeyRow Row, string Secret) Issued(KeyChange change) => (change.Key!, change.Secret!);

    private static ProblemHttpResult Refused(KeyChangeOutcome outcome) => outcome switch
    {
        KeyChangeOutcome.NotFound => KeyNotFound(),
        KeyChangeOutcome.NotActive => ApiProblem.Conflict("api_key.not_active", "Only an active key can be rolled; this one is revoked or expired."),
        _ => ApiProblem.PreconditionFailed(),
    };

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

    internal static ApiKeyResponse ToResponse(ApiKeyRow row, DateTimeOffset? lastUsedAt, DateTimeOffset now) => new(
        row.KeyId, row.OrgId, row.Name, row.DisplayPrefix, row.ParsedMode, row.CapabilityList, row.CidrList, row.RateLimitPerMinute,
        row.StateAt(now), row.CreatedBy, row.CreatedAt, row.ExpiresAt, lastUsedAt, row.RolledAt,
        row.PreviousSecretHash is not null && row.PreviousSecretExpiresAt > now ? row.PreviousSecretExpiresAt : null, row.RevokedAt);

    private static ProblemHttpResult KeyNotFound() => ApiProblem.NotFound("api_key.not_found", "No API key with this id in this organization.");
}
