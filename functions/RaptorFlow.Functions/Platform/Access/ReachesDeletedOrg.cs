namespace RaptorFlow.Functions.Platform.Access;

/// <summary>
/// Endpoint metadata: the route's <c>{orgId}</c> resolves for a user who is a member of the org even
/// while it is deleted (restoring it within the grace period). Every other route answers 404 for a
/// deleted org, and API keys never reach one.
/// </summary>
public sealed record ReachesDeletedOrg;
