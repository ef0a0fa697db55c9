using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Platform.Problems;

namespace RaptorFlow.Functions.Platform.Health;

public sealed record HealthResponse(string Status, DateTimeOffset Time);

public sealed record ReadinessResponse(string Status, IReadOnlyDictionary<string, ReadinessResult> Checks);

public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api").WithTags("Health").AllowAnonymous();

        api.MapGet("/healthz", Alive).WithName("Healthz").WithSummary("The process is alive.");
        api.MapGet("/readyz", ReadyAsync).WithName("Readyz").WithSummary("Storage is reachable and background duties are running.");

        return routes;
    }

    public static Ok<HealthResponse> Alive(TimeProvider time) => TypedResults.Ok(new HealthResponse("ok", time.GetUtcNow()));

    public static async Task<Results<Ok<ReadinessResponse>, ProblemHttpResult>> ReadyAsync(
        IEnumerable<IReadinessProbe> probes, CancellationToken cancellationToken)
    {
        var checks = new Dictionary<string, ReadinessResult>(StringComparer.Ordinal);
        foreach (var probe in probes)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                checks[probe.Name] = await probe.CheckAsync(timeout.Token);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                checks[probe.Name] = new ReadinessResult(false, "unreachable");
            }
        }

        if (checks.Values.All(c => c.Ready))
        {
            return TypedResults.Ok(new ReadinessResponse("ready", checks));
        }

        var failing = string.Join(", ", checks.Where(c => !c.Value.Ready).Select(c => c.Key));
        return ApiProblem.Create(StatusCodes.Status503ServiceUnavailable, "service.not_ready",
            "The service is not ready.", $"Not ready: {failing}.");
    }
}
