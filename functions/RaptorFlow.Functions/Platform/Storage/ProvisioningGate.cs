using Azure.Core;
using Azure.Core.Pipeline;

namespace RaptorFlow.Functions.Platform.Storage;

/// <summary>
/// Holds every storage call until the declared tables, queues and containers exist, for at most
/// <see cref="MaxWait"/>: on brand-new storage (a fresh Azurite) a request or function invocation
/// arriving right after start would otherwise meet "table does not exist". A held call also starts
/// provisioning at once instead of after the first response. Once provisioned, a call pays one
/// flag check. Provisioning itself and the readiness probe pass through (<see cref="PassThrough"/>).
/// </summary>
public sealed class ProvisioningGate
{
    /// <summary>Past this, a call goes ahead against storage as it is (and fails as it would have).</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(20);

    private static readonly AsyncLocal<bool> Passing = new();

    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _wanted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ProvisioningGate() => Policy = new GatePolicy(this);

    public bool IsOpen => _open.Task.IsCompleted;

    /// <summary>Completes when a storage call is waiting for provisioning.</summary>
    public Task Wanted => _wanted.Task;

    /// <summary>Added to every storage client's pipeline (per call, before retries).</summary>
    public HttpPipelinePolicy Policy { get; }

    public void Open() => _open.TrySetResult();

    /// <summary>
    /// Lets the storage calls of the calling async method (and what it awaits) through: an async
    /// method's change to an <see cref="AsyncLocal{T}"/> does not flow back to its caller.
    /// </summary>
    public static void PassThrough() => Passing.Value = true;

    private async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        if (IsOpen || Passing.Value)
        {
            return;
        }

        _wanted.TrySetResult();
        try
        {
            await _open.Task.WaitAsync(MaxWait, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Storage is unreachable or refuses provisioning: let the call meet it as it is.
        }
    }

    private sealed class GatePolicy(ProvisioningGate gate) : HttpPipelinePolicy
    {
        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            await gate.WaitAsync(message.CancellationToken);
            await ProcessNextAsync(message, pipeline);
        }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            gate.WaitAsync(message.CancellationToken).AsTask().GetAwaiter().GetResult();
            ProcessNext(message, pipeline);
        }
    }
}
