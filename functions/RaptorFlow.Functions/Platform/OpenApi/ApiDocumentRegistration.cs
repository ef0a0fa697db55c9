using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Http;
using RaptorFlow.Functions.Platform.Json;
using RaptorFlow.Functions.Platform.Settings;
using Scalar.AspNetCore;

namespace RaptorFlow.Functions.Platform.OpenApi;

/// <summary>The API's OpenAPI document (<c>/api/openapi/v1.json</c>) and its interactive reference (<c>/api/docs</c>).</summary>
public static class ApiDocumentRegistration
{
    public const string DocumentName = "v1";
    public const string DocumentRoute = "/api/openapi/{documentName}.json";
    public const string DocsRoute = "/api/docs";

    /// <summary><c>--write-openapi &lt;file&gt;</c>: write the document and exit.</summary>
    public const string WriteArgument = "--write-openapi";

    public static IServiceCollection AddApiDocument(this IServiceCollection services)
    {
        services.AddSettings<ApiDocsSettings>();
        services.AddOpenApi(DocumentName, o =>
        {
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "RaptorFlow API";
                document.Info.Version = DocumentName;
                document.Info.Description = "Errors are `application/problem+json` with a stable `code`. Call with a user's bearer token or an org's API key; " +
                    "locally, `POST /api/dev/token` (when the development issuer is on) mints a token to paste into the bearer scheme.";
                // Relative to wherever the document is served: behind the Functions host the
                // handler's own listening address is not the one callers use.
                document.Servers = [];
                return Task.CompletedTask;
            });
            o.AddDocumentTransformer<SecuritySchemes>();
            o.AddDocumentTransformer(OperationProblems.AddSchemaAsync);
            o.AddDocumentTransformer(RequestExamples.AddAsync);
            o.AddOperationTransformer(OperationContract.TransformAsync);
            o.AddSchemaTransformer(WireEnumConverter.DescribeAsync);
        });
        return services;
    }

    /// <summary>
    /// Writes the document <c>/api/openapi/v1.json</c> serves (the TypeScript client is generated
    /// from it). The app starts, since starting is what joins the mapped endpoints to routing, and
    /// stops once the document is written; nothing is called over HTTP.
    /// </summary>
    public static async Task WriteAsync(WebApplication app, string file)
    {
        await app.StartAsync();
        var document = await app.Services.GetRequiredKeyedService<IOpenApiDocumentProvider>(DocumentName).GetOpenApiDocumentAsync();
        await app.StopAsync();
        await using var text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        document.SerializeAsV31(new OpenApiJsonWriter(text));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        await File.WriteAllTextAsync(file, text + "\n");
    }

    public static WebApplication MapApiDocument(this WebApplication app)
    {
        app.MapOpenApi(DocumentRoute).AllowAnonymous();
        var docs = app.Services.GetRequiredService<IOptions<ApiDocsSettings>>().Value;
        if (!docs.IsOn(app.Configuration))
        {
            return app;
        }

        app.MapScalarApiReference(DocsRoute, o => o
                .WithTitle(docs.Title)
                .WithOpenApiRoutePattern(DocumentRoute)
                .AddPreferredSecuritySchemes(SecuritySchemes.Bearer, SecuritySchemes.ApiKey)
                .DisableDefaultFonts()
                .DisableTelemetry()
                .DisableAgent()
                .DisableMcp()
                .WithNonce()
                .WithDynamicBaseServerUrl(true))
            .IsPublic("The interactive API reference: a page over the public OpenAPI document.")
            .WithMetadata(new ContentSecurityPolicy(PagePolicy));
        return app;
    }

    /// <summary>The reference page's scripts run by nonce; it talks only to this origin.</summary>
    private static string PagePolicy(HttpContext context)
    {
        var nonce = context.Items.TryGetValue(ScalarOptions.NonceHttpContextItemKey, out var value) && value is string n ? $" 'nonce-{n}'" : "";
        return $"default-src 'none'; script-src 'self'{nonce}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
            "connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    }
}
