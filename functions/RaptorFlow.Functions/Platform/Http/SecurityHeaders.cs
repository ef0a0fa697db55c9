using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Functions.Platform.Http;

/// <summary>Headers every response carries; API responses are never cached.</summary>
public sealed class SecurityHeaders(RequestDelegate next, IConfiguration configuration)
{
    /// <summary>A year, subdomains included; sent only in Azure, where the front end serves HTTPS alone (a local http:// origin must stay usable).</summary>
    public const string StrictTransportSecurity = "max-age=31536000; includeSubDomains";

    private readonly bool _inAzure = !string.IsNullOrWhiteSpace(configuration[AccessRegistration.AzureWebsiteSetting]);

    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(static state =>
        {
            var (http, inAzure) = ((HttpContext, bool))state;
            var headers = http.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.XFrameOptions = "DENY";
            if (inAzure)
            {
                headers.StrictTransportSecurity = StrictTransportSecurity;
            }

            if (!headers.ContainsKey("Content-Security-Policy"))
            {
                headers.ContentSecurityPolicy = http.GetEndpoint()?.Metadata.GetMetadata<ContentSecurityPolicy>()?.Build(http)
                    ?? "default-src 'none'; frame-ancestors 'none'";
            }

            if (http.Request.Path.StartsWithSegments("/api"))
            {
                headers.CacheControl = "no-store";
            }

            headers.Remove("Server");
            headers.Remove("X-Powered-By");
            return Task.CompletedTask;
        }, (context, _inAzure));
        return next(context);
    }
}
