namespace RaptorFlow.Functions.Platform.Health;

/// <summary>One dependency or background duty that readiness reports on.</summary>
public interface IReadinessProbe
{
    string Name { get; }

    Task<ReadinessResult> CheckAsync(CancellationToken cancellationToken);
}

public sealed record ReadinessResult(bool Ready, string Status, object? Details = null);
