using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Cors.Infrastructure;
using RaptorFlow.Functions.Platform.Health;
using RaptorFlow.Functions.Platform.Http;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Json;
using RaptorFlow.Functions.Platform.Lifetime;
using RaptorFlow.Functions.Platform.OpenApi;
using RaptorFlow.Functions.Platform.Problems;
using RaptorFlow.Functions.Platform.RateLimiting;
using RaptorFlow.Functions.Platform.Settings;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Platform.Telemetry;

namespace RaptorFlow.Functions.Platform;

/// <summary>The shared mechanisms every feature uses: storage, errors, ids, time, HTTP conventions, telemetry.</summary>
public static class PlatformRegistration
{
    /// <summary>
    /// <paramref name="json"/> and <paramref name="settings"/> are the app's compile-time lists
    /// (composed next to <c>Program.cs</c>, since they name every feature's types); the platform
    /// only puts them to work.
    /// </summary>
    public static WebApplicationBuilder AddPlatform(this WebApplicationBuilder builder, IJsonTypeInfoResolver json, IGeneratedSettings settings)
    {
        var services = builder.Services;
        services.AddSingleton(settings);
        builder.AddTelemetry();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<IdGenerator>();
        services.AddStorageAccount();
        services.AddSingleton<FirstResponse>();
        services.AddSingleton<IReadinessProbe, StorageReadiness>();
        services.AddProblemResponses();
        services.ConfigureHttpJsonOptions(o => ConfigureJson(o.SerializerOptions, json));
        services.AddSpaCors(builder.Configuration);
        services.AddRateLimiting(builder.Configuration);
        services.AddApiDocument();
        return builder;
    }

    /// <summary>camelCase, strict types, unknown and repeated properties rejected, one name per enum value.</summary>
    public static void ConfigureJson(JsonSerializerOptions options, IJsonTypeInfoResolver generated)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        // "Last one wins" lets a body say one thing to a reader of its first value and another to us.
        options.AllowDuplicateProperties = false;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.Converters.Add(new WireEnumConverter());

        // Generated metadata first; the reflection resolver ASP.NET Core put in the chain stays
        // after it for anything the context does not declare.
        options.TypeInfoResolverChain.Insert(0, generated);
    }

    public static WebApplication UsePlatform(this WebApplication app)
    {
        var firstResponse = app.Services.GetRequiredService<FirstResponse>();
        app.Use((context, next) =>
        {
            firstResponse.Watch(context);
            return next(context);
        });
        app.UseMiddleware<SecurityHeaders>();
        app.UseMiddleware<RequestCorrelation>();
        app.UseProblemResponses();
        app.UseRouting();
        UseCors(app);
        app.UseMiddleware<RequestBodyLimitMiddleware>();
        return app;
    }

    /// <summary>
    /// <c>UseCors()</c>, without its cost at start: the middleware takes its policy provider as an
    /// <c>Invoke</c> parameter, for which <c>UseMiddleware</c> compiles an expression when the
    /// pipeline is built. The default provider only reads the options, so one instance serves all.
    /// </summary>
    private static void UseCors(WebApplication app)
    {
        var policies = app.Services.GetRequiredService<ICorsPolicyProvider>();
        app.Use(next =>
        {
            var cors = ActivatorUtilities.CreateInstance<CorsMiddleware>(app.Services, next);
            return context => cors.Invoke(context, policies);
        });
    }

    public static WebApplication MapPlatform(this WebApplication app)
    {
        app.MapApiDocument();
        app.MapHealth();
        return app;
    }
}
