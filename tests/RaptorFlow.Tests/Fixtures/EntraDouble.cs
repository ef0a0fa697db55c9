using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace RaptorFlow.Tests.Fixtures;

/// <summary>
/// Stands in for Entra ID, which tests cannot reach: serves OpenID metadata and a JWKS on loopback
/// and signs v2.0 access tokens with its own RSA key, with whatever <c>iss</c>/<c>tid</c> a test names.
/// </summary>
public sealed class EntraDouble : IAsyncDisposable
{
    public const string PublicLogin = "https://login.microsoftonline.com/";

    private readonly WebApplication _server;
    private readonly RSA _rsa;
    private readonly RsaSecurityKey _key;

    private EntraDouble(WebApplication server, RSA rsa, RsaSecurityKey key)
    {
        _server = server;
        _rsa = rsa;
        _key = key;
    }

    public string ClientId { get; } = Guid.NewGuid().ToString();

    public string Audience => $"api://{ClientId}";

    public string MetadataAddress => $"{_server.Urls.First()}/v2.0/.well-known/openid-configuration";

    public static async Task<EntraDouble> StartAsync()
    {
        var rsa = RSA.Create(2048);
        var key = new RsaSecurityKey(rsa) { KeyId = Guid.NewGuid().ToString("N") };
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false)) { KeyId = key.KeyId });
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var server = builder.Build();
        server.MapGet("/v2.0/.well-known/openid-configuration", (HttpContext context) => Results.Text(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            // As Entra's /organizations metadata: the issuer is a template, filled per token.
            ["issuer"] = PublicLogin + "{tenantid}/v2.0",
            ["jwks_uri"] = $"{context.Request.Scheme}://{context.Request.Host}/keys",
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
        }), "application/json"));
        server.MapGet("/keys", () => Results.Text(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["keys"] = new[] { new Dictionary<string, string> { ["kty"] = "RSA", ["use"] = "sig", ["kid"] = jwk.Kid, ["n"] = jwk.N, ["e"] = jwk.E } },
        }), "application/json"));
        await server.StartAsync();
        return new EntraDouble(server, rsa, key);
    }

    /// <summary>App settings for the Entra scheme in the given mode, reading keys from this double.</summary>
    public Dictionary<string, string?> Settings(string signInAudience, string instance, string tenantId, params string[] allowedTenants)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["AzureAd:Instance"] = instance,
            ["AzureAd:TenantId"] = tenantId,
            ["AzureAd:ClientId"] = ClientId,
            ["AzureAd:Audience"] = Audience,
            ["AzureAd:MetadataAddress"] = MetadataAddress,
            ["AzureAd:RequireHttpsMetadata"] = "false",
            ["Auth:SignInAudience"] = signInAudience,
        };
        for (var i = 0; i < allowedTenants.Length; i++)
        {
            settings[$"Auth:AllowedTenants:{i}"] = allowedTenants[i];
        }

        return settings;
    }

    /// <summary>A signed v2.0 access token for this API, as Entra issues it to a user.</summary>
    public string Token(string issuer, string tid, string oid)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = Audience,
            IssuedAt = now,
            NotBefore = now.AddMinutes(-1),
            Expires = now.AddHours(1),
            Claims = new Dictionary<string, object>
            {
                ["tid"] = tid,
                ["oid"] = oid,
                ["sub"] = oid,
                ["scp"] = "access_as_user",
                ["ver"] = "2.0",
                ["name"] = "Entra User",
                ["preferred_username"] = $"{oid}@example.test",
            },
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.RsaSha256),
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _rsa.Dispose();
    }
}
