namespace RaptorFlow.Functions.Platform.RateLimiting;

/// <summary>A first lease of a shared bucket lost every race its policy allows: the limit is not known yet.</summary>
public sealed class LeaseContendedException(string bucket) : Exception($"The shared rate-limit bucket {bucket} stayed contended; its limit is not known yet.");
