namespace RaptorFlow.Functions.Razorpay;

/// <summary>Whether an org exists; a payment naming an unknown org is posted to the platform's suspense ledger.</summary>
public interface IKnownOrganizations
{
    Task<bool> ExistsAsync(string orgId, CancellationToken cancellationToken);
}
