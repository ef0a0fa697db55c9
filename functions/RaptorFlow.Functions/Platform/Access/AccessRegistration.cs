using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.Identity.Web;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using RaptorFlow.Functions.Platform.Secrets;
using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Platform.Access;

/// <summary>
/// Authentication and capability enforcement. The default scheme is a policy scheme that forwards
/// API-key requests (<c>X-Api-Key</c>, or <c>Authorization: Bearer rf_…</c>) to the <c>ApiKey</c>
/// scheme and everything else to JWT bearer: Entra ID (<c>AzureAd</c> section, its issuers by
/// <c>Auth:SignInAudience</c>) and, when
/// <c>Auth:DevIssuer:Enabled</c>, the local development issuer.
/// </summary>
public static class AccessRegistration
{
    public const string DefaultScheme = "RaptorFlow";
    public const string ApiKeyScheme = "ApiKey";
    public const string EntraScheme = JwtBearerDefaults.AuthenticationScheme;
    public const string DevIssuerScheme = "DevIssuer";
    public const string NoCredentialsScheme = "NoCredentials";
    public const string ApiKeyHeader = "X-Api-Key";
    public const string ApiKeyBearerPrefix = "rf_";
    public const string AzureWebsiteSetting = "WEBSITE_SITE_NAME";

    public static WebApplicationBuilder AddAccess(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.AddSettings<AuthSettings>();
        services.AddSingleton<IValidateOptions<AuthSettings>, DevIssuerValidation>();
        services.AddSingleton<IValidateOptions<AuthSettings>, SignInValidation>();

        var devIssuer = configuration.GetSection($"{AuthSettings.SectionName}:DevIssuer").Get<DevIssuerSettings>() ?? new DevIssuerSettings();
        if (devIssuer.Enabled && !string.IsNullOrWhiteSpace(configuration[AzureWebsiteSetting]))
        {
            throw new InvalidOperationException(
                $"Auth:DevIssuer:Enabled is true while running in Azure ({AzureWebsiteSetting} is set). The development issuer mints tokens for anyone; turn it off.");
        }

        var entraConfigured = !string.IsNullOrWhiteSpace(configuration["AzureAd:ClientId"]);
        var authentication = services.AddAuthentication(DefaultScheme)
            .AddPolicyScheme(DefaultScheme, "API key or bearer token", o =>
                o.ForwardDefaultSelector = context => SelectScheme(context, devIssuer, entraConfigured))
            .AddScheme<AuthenticationSchemeOptions, NoCredentialsHandler>(NoCredentialsScheme, null);

        if (entraConfigured)
        {
            authentication.AddMicrosoftIdentityWebApi(configuration, EntraIssuers.AzureAdSection, EntraScheme);
            // Registered after Microsoft.Identity.Web's own configuration, so it replaces the
            // AadIssuerValidator that would otherwise accept any tenant under the authority.
            services.AddOptions<JwtBearerOptions>(EntraScheme).Configure<IOptions<AuthSettings>>((o, auth) =>
                o.TokenValidationParameters.IssuerValidator = new EntraIssuers(auth.Value, configuration.GetSection(EntraIssuers.AzureAdSection)).Validate);
        }

        if (devIssuer.Enabled)
        {
            services.AddSingleton<DevTokenIssuer>();
            authentication.AddJwtBearer(DevIssuerScheme);
            services.AddOptions<JwtBearerOptions>(DevIssuerScheme).Configure<DevTokenIssuer>((o, issuer) => issuer.Configure(o));
        }

        services.AddKeyRing(configuration);

        // AddAuthentication brings data protection, whose hosted service reads (or creates and
        // writes) the key ring at every start: ≈ 5 % of the cold start. Nothing here protects data
        // (bearer tokens and API keys: no cookies, antiforgery or sessions), so the ring is left to
        // load on first use (the first recorded idempotent response). Later schemes join through an AuthenticationBuilder, not AddAuthentication.
        if (services.FirstOrDefault(d => d.ServiceType == typeof(IHostedService)
            && d.ImplementationType?.FullName == "Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService") is { } keyRingLoader)
        {
            services.Remove(keyRingLoader);
        }

        services.AddTransient<IClaimsTransformation, UserCallerClaims>();
        // No fallback policy: unknown routes must stay 404 and wrong methods 405 for anonymous callers.
        // Instead a test walks every endpoint and fails for one that is neither public nor capability-guarded.
        services.AddAuthorization();
        services.AddSingleton<PlatformAdmins>();
        return builder;
    }

    /// <summary>Authentication, authorization, then capability enforcement (with the request admissions after it).</summary>
    public static WebApplication UseAccess(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseMiddleware<CapabilityEnforcement>();
        return app;
    }

    private static string SelectScheme(HttpContext context, DevIssuerSettings devIssuer, bool entraConfigured)
    {
        var headers = context.Request.Headers;
        var authorization = headers.Authorization.ToString();
        if (headers.ContainsKey(ApiKeyHeader) || authorization.StartsWith("Bearer " + ApiKeyBearerPrefix, StringComparison.Ordinal))
        {
            // The API-keys feature registers this scheme; until it does, keys are simply not credentials.
            var schemes = context.RequestServices.GetRequiredService<IOptions<AuthenticationOptions>>().Value.SchemeMap;
            return schemes.ContainsKey(ApiKeyScheme) ? ApiKeyScheme : NoCredentialsScheme;
        }

        if (devIssuer.Enabled && (!entraConfigured || IssuedBy(authorization, devIssuer.Issuer)))
        {
            return DevIssuerScheme;
        }

        return entraConfigured ? EntraScheme : NoCredentialsScheme;
    }

    private static bool IssuedBy(string authorization, string issuer)
    {
        if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var handler = new JsonWebTokenHandler();
        var token = authorization["Bearer ".Length..].Trim();
        if (!handler.CanReadToken(token))
        {
            return false;
        }

        try
        {
            return string.Equals(handler.ReadJsonWebToken(token).Issuer, issuer, StringComparison.Ordinal);
        }
        catch (SecurityTokenMalformedException)
        {
            return false;
        }
    }

    /// <summary>Marks a bearer-token principal (one with an <c>oid</c>) as a user caller.</summary>
    private sealed class UserCallerClaims : IClaimsTransformation
    {
        public Task<ClaimsPrincipal> TransformAsync(ClaimsPrincipal principal)
        {
            if (principal.Identity is ClaimsIdentity { IsAuthenticated: true } identity
                && principal.FindFirst(CallerClaims.Kind) is null
                && (principal.FindFirst(CallerClaims.ObjectId) ?? principal.FindFirst(CallerClaims.LongObjectId)) is not null)
            {
                identity.AddClaim(new Claim(CallerClaims.Kind, CallerClaims.UserKind));
            }

            return Task.FromResult(principal);
        }
    }
}
