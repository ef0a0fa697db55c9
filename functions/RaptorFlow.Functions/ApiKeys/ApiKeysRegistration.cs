using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection.Extensions;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.OpenApi;
using RaptorFlow.Functions.Platform.RateLimiting;
using RaptorFlow.Functions.Platform.Settings;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>API keys: the endpoints, the <c>ApiKey</c> authentication scheme, the admission of key requests (address rules, the key's and org's rate-limit budgets, metering) and last-use tracking.</summary>
public static class ApiKeysRegistration
{
    public static WebApplicationBuilder AddApiKeys(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<ApiKeySettings>();
        services.AddStorageTable(ApiKeyRow.TableName);
        services.AddStorageTable(ApiKeyHashRow.TableName);
        services.AddStorageTable(ApiKeyLastUseRow.TableName);
        services.AddStorageTable(KeyExpiryRow.TableName);
        services.AddSingleton<KeyExpiryIndex>();
        services.TryAddSingleton<ClientAddressResolver>();
        services.AddSingleton<ApiKeyVerifier>();
        services.AddSingleton<ApiKeyRing>();
        services.AddSingleton<KeyLastUse>();
        services.AddSingleton<IClientAddresses>(sp => sp.GetRequiredService<ClientAddressResolver>());
        services.AddSingleton<IOrgRateLimits, PlanRateLimits>();
        services.AddSingleton<IRequestAdmission, KeyAdmission>();
        services.AddSingleton<IRequestLimits, KeyLimits>();
        services.AddSingleton<IRequestAdmission, KeyMetering>();
        services.AddHostedService<KeyUsageFlusher>();
        // The scheme joins the authentication AddAccess set up; AddAuthentication() again would bring
        // back the key-ring loading AddAccess keeps off the start path.
        new AuthenticationBuilder(services).AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(AccessRegistration.ApiKeyScheme, null);
        services.Configure<OpenApiOptions>(ApiDocumentRegistration.DocumentName, o => o.AddOperationTransformer((operation, context, _) =>
        {
            if (OperationContract.AdmitsApiKeys(context))
            {
                OperationProblems.Declare(operation, context, StatusCodes.Status401Unauthorized, "Unauthorized.",
                    "api_key.malformed", "api_key.unknown", "api_key.revoked", "api_key.expired", "api_key.org_deleted");
                OperationProblems.Declare(operation, context, StatusCodes.Status403Forbidden, "Forbidden.", "api_key.ip_not_allowed");
            }

            return Task.CompletedTask;
        }));
        return builder;
    }

    public static WebApplication MapApiKeys(this WebApplication app)
    {
        app.MapApiKeyRoutes();
        return app;
    }
}
