using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace RaptorFlow.Functions.Platform.Access;

/// <summary>
/// Local development and tests only: signs user tokens with a local HMAC key. Registered only when
/// <c>Auth:DevIssuer:Enabled</c> is true, which start-up refuses inside Azure.
/// </summary>
public sealed partial class DevTokenIssuer
{
    public const string DevTenantId = "00000000-0000-0000-0000-00000000de00";

    private readonly DevIssuerSettings _settings;
    private readonly TimeProvider _time;
    private readonly SymmetricSecurityKey _key;

    public DevTokenIssuer(IOptions<AuthSettings> settings, TimeProvider time)
    {
        _settings = settings.Value.DevIssuer;
        _time = time;
        var bytes = string.IsNullOrWhiteSpace(_settings.SigningKey)
            ? RandomNumberGenerator.GetBytes(32)
            : Convert.FromBase64String(_settings.SigningKey);
        if (bytes.Length < 32)
        {
            throw new InvalidOperationException("Auth:DevIssuer:SigningKey must be at least 32 bytes (base64).");
        }

        _key = new SymmetricSecurityKey(bytes) { KeyId = "dev" };
    }

    /// <summary>A user token; <paramref name="upn"/> stands for an Entra v1 token's <c>upn</c>, which carries the address when <c>email</c> is absent.</summary>
    public (string Token, DateTimeOffset ExpiresAt) Issue(string subject, string? email, string? name, string? upn = null)
    {
        var now = _time.GetUtcNow();
        var expires = now.AddMinutes(_settings.TokenLifetimeMinutes);
        var claims = new Dictionary<string, object>
        {
            ["sub"] = subject,
            [CallerClaims.ObjectId] = subject,
            [CallerClaims.TenantId] = DevTenantId,
        };
        if (email is not null)
        {
            claims["email"] = email;
        }

        if (upn is not null)
        {
            claims[CallerClaims.Upn] = upn;
        }

        if (name is not null)
        {
            claims["name"] = name;
        }

        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _settings.Issuer,
            Audience = _settings.Audience,
            Claims = claims,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.HmacSha256),
        });
        return (token, expires);
    }

    internal void Configure(JwtBearerOptions options)
    {
        options.MapInboundClaims = false;
        options.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = _settings.Issuer,
            ValidAudience = _settings.Audience,
            IssuerSigningKey = _key,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            ValidateLifetime = true,
            RequireExpirationTime = true,
            NameClaimType = "name",
            // Judge expiry by the app's clock, so tests can move time.
            LifetimeValidator = (notBefore, expires, _, _) =>
            {
                var now = _time.GetUtcNow().UtcDateTime;
                return expires is not null && now < expires.Value && (notBefore is null || now >= notBefore.Value.AddMinutes(-1));
            },
        };
    }

    [GeneratedRegex("^[A-Za-z0-9._:@-]{1,128}$")]
    internal static partial Regex SubjectPattern();
}
