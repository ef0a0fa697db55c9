namespace RaptorFlow.Functions.Platform.RateLimiting;

/// <summary>The outcome of asking a bucket for a token, with what the <c>RateLimit-*</c> headers report.</summary>
public readonly record struct RateLimitDecision(bool Allowed, int Limit, int Remaining, TimeSpan RetryAfter, TimeSpan ResetAfter);
