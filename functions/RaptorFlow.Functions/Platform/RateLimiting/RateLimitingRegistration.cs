using Microsoft.AspNetCore.OpenApi;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.OpenApi;
using RaptorFlow.Functions.Platform.Settings;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Platform.RateLimiting;

/// <summary>Rate limits shared across instances: the buckets, their sync, the one admission that decides, and the 429 in the API document.</summary>
public static class RateLimitingRegistration
{
    public const string TooManyRequests = "Too many requests: a rate limit is used up (see Retry-After and the RateLimit-* headers).";

    public static IServiceCollection AddRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<RateLimitSettings>();
        services.AddStorageTable(configuration[$"{RateLimitSettings.SectionName}:{nameof(RateLimitSettings.Table)}"] ?? SharedBucketRow.TableName);
        services.AddSingleton<SharedRateLimits>();
        services.AddHostedService<RateLimitSync>();
        services.AddSingleton<IRequestLimits, CallerLimits>();
        services.AddSingleton<IRequestAdmission, RateLimitAdmission>();
        services.Configure<OpenApiOptions>(ApiDocumentRegistration.DocumentName, o => o.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (metadata.OfType<RequiredCapability>().Any() || metadata.OfType<ClientAddressLimit>().Any())
            {
                OperationProblems.Declare(operation, context, StatusCodes.Status429TooManyRequests, TooManyRequests, RateLimitAdmission.Code);
            }

            return Task.CompletedTask;
        }));
        return services;
    }
}
