using RaptorFlow.Functions.Platform.Health;

namespace RaptorFlow.Functions.Platform.Storage;

/// <summary>Storage answers, and every declared table, queue and container exists.</summary>
public sealed class StorageReadiness(StorageAccount storage, StorageProvisioner provisioner) : IReadinessProbe
{
    public string Name => "storage";

    public async Task<ReadinessResult> CheckAsync(CancellationToken cancellationToken)
    {
        // Readiness reports provisioning; it must not wait for it.
        ProvisioningGate.PassThrough();
        await foreach (var _ in storage.Tables.QueryAsync(maxPerPage: 1, cancellationToken: cancellationToken).AsPages(pageSizeHint: 1))
        {
            break;
        }

        return provisioner.IsProvisioned
            ? new ReadinessResult(true, "ok")
            : new ReadinessResult(false, "provisioning");
    }
}
