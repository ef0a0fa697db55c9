namespace RaptorFlow.Functions.Privacy;

/// <summary>An export as the API shows it; <c>downloadUrl</c> only once it is ready, fresh on every read.</summary>
public sealed record ExportResponse(
    string Id,
    string Status,
    long Items,
    long? SizeBytes,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt,
    DateTimeOffset ExpiresAt,
    string? DownloadUrl,
    DateTimeOffset? DownloadUrlExpiresAt,
    string? Error);
