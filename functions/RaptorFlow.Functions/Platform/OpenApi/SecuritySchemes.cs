using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Functions.Platform.OpenApi;

/// <summary>
/// The two ways to call the API, as <c>components.securitySchemes</c>: an Entra ID bearer token
/// (authority and scope from the <c>AzureAd</c> settings) and an org's API key.
/// </summary>
internal sealed class SecuritySchemes(IConfiguration configuration) : IOpenApiDocumentTransformer
{
    public const string Bearer = "bearer";
    public const string ApiKey = "apiKey";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = BearerDescription(),
        };
        document.Components.SecuritySchemes[ApiKey] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = AccessRegistration.ApiKeyHeader,
            Description = $"An org's API key (`{AccessRegistration.ApiKeyBearerPrefix}…`), shown once when created. " +
                $"It may also be sent as `Authorization: Bearer {AccessRegistration.ApiKeyBearerPrefix}…`. " +
                "A key acts only in its own org, with the capabilities it was given.",
        };
        return Task.CompletedTask;
    }

    private string BearerDescription()
    {
        var clientId = configuration["AzureAd:ClientId"];
        var text = "A user's Entra ID access token (JWT); the user is the token's `oid`.";
        if (string.IsNullOrWhiteSpace(clientId))
        {
            return text + " Entra ID is configured by the `AzureAd` settings (Instance, TenantId, ClientId, Audience); " +
                "locally, `POST /api/dev/token` mints a token from the development issuer when it is enabled.";
        }

        var instance = (configuration["AzureAd:Instance"] ?? "https://login.microsoftonline.com/").TrimEnd('/');
        var tenant = configuration["AzureAd:TenantId"] ?? "organizations";
        var audience = configuration["AzureAd:Audience"] is { Length: > 0 } a ? a : $"api://{clientId}";
        var scopes = configuration["AzureAd:Scopes"] is { Length: > 0 } s ? s : $"{audience}/.default";
        return text + $" Authority: `{instance}/{tenant}/v2.0`; audience: `{audience}`; scopes: `{scopes}`.";
    }
}
