namespace RaptorFlow.Functions.Platform.RateLimiting;

/// <summary>One budget a request spends a token of: its shared name (<c>key:…</c>, <c>user:…</c>, <c>address:…</c>) and its rate.</summary>
public readonly record struct RequestLimit(string Name, int PerMinute);
