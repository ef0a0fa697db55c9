using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace RaptorFlow.Functions.Platform.Http;

/// <summary>The timeouts and retries of a typed client for a provider's REST API.</summary>
public interface IRestCallSettings
{
    /// <summary>Per-attempt timeout of a call.</summary>
    TimeSpan AttemptTimeout { get; }

    /// <summary>Timeout of a call including its retries.</summary>
    TimeSpan TotalTimeout { get; }

    int MaxRetries { get; }

    /// <summary>First retry delay; later ones grow exponentially, with jitter.</summary>
    TimeSpan RetryBaseDelay { get; }
}

public static class RestResilience
{
    /// <summary>
    /// Total timeout, then exponential retries with jitter that honour <c>Retry-After</c>, then a
    /// per-attempt timeout; <paramref name="shouldRetry"/> says which outcomes are worth another try.
    /// The client's own timeout must be infinite: the pipeline owns timeouts.
    /// </summary>
    public static IHttpClientBuilder AddRestResilience<TSettings>(
        this IHttpClientBuilder builder, string name, Func<Outcome<HttpResponseMessage>, ResilienceContext, bool> shouldRetry)
        where TSettings : class, IRestCallSettings
    {
        builder.AddResilienceHandler(name, (pipeline, context) =>
        {
            var settings = context.ServiceProvider.GetRequiredService<IOptions<TSettings>>().Value;
            pipeline.AddTimeout(settings.TotalTimeout);
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(settings.MaxRetries, 1),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = settings.RetryBaseDelay,
                ShouldRetryAfterHeader = true,
                ShouldHandle = args => ValueTask.FromResult(settings.MaxRetries > 0 && shouldRetry(args.Outcome, args.Context)),
            });
            pipeline.AddTimeout(settings.AttemptTimeout);
        });
        return builder;
    }
}
