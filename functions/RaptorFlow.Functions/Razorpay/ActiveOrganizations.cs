using RaptorFlow.Functions.Organizations;

namespace RaptorFlow.Functions.Razorpay;

/// <summary>An org is known while it exists and is not deleted; a payment for any other goes to suspense.</summary>
internal sealed class ActiveOrganizations(OrgDirectory directory) : IKnownOrganizations
{
    public Task<bool> ExistsAsync(string orgId, CancellationToken cancellationToken) => directory.IsActiveAsync(orgId, cancellationToken);
}
