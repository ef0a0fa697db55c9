using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Http;
using RaptorFlow.Functions.Platform.Paging;

namespace RaptorFlow.Functions.Platform.OpenApi;

/// <summary>
/// What the platform knows of every operation from its endpoint metadata: who may call it
/// (<c>security</c>) and the problems its access check, its body and its <c>If-Match</c> can answer.
/// </summary>
public static class OperationContract
{
    internal static Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var capability = metadata.OfType<RequiredCapability>().LastOrDefault()?.Name;
        var isPublic = capability is null || metadata.OfType<IAllowAnonymous>().Any();
        operation.Security = isPublic ? [] : Requirements(capability!, context.Document);
        if (!isPublic)
        {
            operation.Description = Append(operation.Description, $"Requires the `{capability}` capability.");
            OperationProblems.Declare(operation, context, StatusCodes.Status401Unauthorized, "Authentication is required.", "auth.unauthenticated");
            OperationProblems.Declare(operation, context, StatusCodes.Status403Forbidden, "Forbidden.", "auth.capability_missing");
            if (context.Description.RelativePath?.Contains("{" + CapabilityEndpointExtensions.OrgIdRouteValue + "}", StringComparison.Ordinal) == true)
            {
                // A stranger to the org, or an org that does not exist: the same answer, so existence does not leak.
                OperationProblems.Declare(operation, context, StatusCodes.Status404NotFound, "Not found.", "org.not_found");
            }
        }

        if (context.Description.ParameterDescriptions.Any(p => p.Source == BindingSource.Body))
        {
            OperationProblems.Declare(operation, context, StatusCodes.Status400BadRequest, "The request is not valid.",
                "validation.failed", "request.malformed_json", "request.body_required");
            OperationProblems.Declare(operation, context, StatusCodes.Status413PayloadTooLarge, "The request body is too large.", "request.body_too_large");
            OperationProblems.Declare(operation, context, StatusCodes.Status415UnsupportedMediaType, "The request body must be application/json.", "request.unsupported_media_type");
        }
        else if (IsPaged(context) || context.Description.ParameterDescriptions.Any(p => p.Source == BindingSource.Query))
        {
            OperationProblems.Declare(operation, context, StatusCodes.Status400BadRequest, "The request is not valid.", "validation.failed");
        }

        if (IsPaged(context))
        {
            DescribePaging(operation);
        }

        if (metadata.OfType<ConditionalWriteEndpoint>().Any())
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "If-Match",
                In = ParameterLocation.Header,
                Description = "The ETag the change is based on; without it the change applies to the current version.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
            OperationProblems.Declare(operation, context, StatusCodes.Status412PreconditionFailed, "Precondition failed.", "precondition.failed");
        }

        OperationProblems.UseSharedSchema(operation, context);
        return Task.CompletedTask;
    }

    /// <summary>The handler takes a <see cref="PageRequest"/> (the API explorer leaves out parameters that bind themselves).</summary>
    private static bool IsPaged(OpenApiOperationTransformerContext context) =>
        context.Description.ActionDescriptor.EndpointMetadata.OfType<System.Reflection.MethodInfo>()
            .Any(m => m.GetParameters().Any(p => p.ParameterType == typeof(PageRequest)));

    /// <summary>A <see cref="PageRequest"/> binds itself from the query, so the generator cannot see its two parameters.</summary>
    private static void DescribePaging(OpenApiOperation operation)
    {
        operation.Parameters ??= [];
        if (operation.Parameters.Any(p => p.Name == "cursor"))
        {
            return;
        }

        operation.Parameters.Add(new OpenApiParameter
        {
            Name = "limit",
            In = ParameterLocation.Query,
            Description = $"Items per page, 1 to {PageRequest.MaxLimit}.",
            Schema = new OpenApiSchema
            {
                Type = JsonSchemaType.Integer,
                Format = "int32",
                Minimum = "1",
                Maximum = PageRequest.MaxLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Default = System.Text.Json.Nodes.JsonValue.Create(PageRequest.DefaultLimit),
            },
        });
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = "cursor",
            In = ParameterLocation.Query,
            Description = "The `nextCursor` of the previous page; absent for the first.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
        });
    }

    /// <summary>Org capabilities admit a user's token or an org's API key; personal and platform ones only a user.</summary>
    private static List<OpenApiSecurityRequirement> Requirements(string capability, OpenApiDocument? document)
    {
        var requirements = new List<OpenApiSecurityRequirement>
        {
            new() { [new OpenApiSecuritySchemeReference(SecuritySchemes.Bearer, document)] = [] },
        };
        if (Capability.OrgScoped.Contains(capability))
        {
            requirements.Add(new() { [new OpenApiSecuritySchemeReference(SecuritySchemes.ApiKey, document)] = [] });
        }

        return requirements;
    }

    /// <summary>True when the operation's endpoint can be called with an API key (its capability is an org one).</summary>
    public static bool AdmitsApiKeys(OpenApiOperationTransformerContext context) =>
        context.Description.ActionDescriptor.EndpointMetadata.OfType<RequiredCapability>().LastOrDefault() is { } required
        && Capability.OrgScoped.Contains(required.Name);

    private static string Append(string? text, string sentence) =>
        string.IsNullOrEmpty(text) ? sentence : text + "\n\n" + sentence;
}
