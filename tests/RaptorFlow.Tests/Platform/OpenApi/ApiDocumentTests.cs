using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform.OpenApi;

public sealed partial class ApiDocumentTests(SignedInAppFixture fixture) : IClassFixture<SignedInAppFixture>
{
    private static readonly string[] WriteMethods = ["post", "put", "patch"];

    private async Task<JsonObject> DocumentAsync()
    {
        var text = await fixture.App.Client.GetStringAsync(new Uri("/api/openapi/v1.json", UriKind.Relative));
        return JsonNode.Parse(text)!.AsObject();
    }

    private static IEnumerable<(string Path, string Method, JsonObject Operation)> Operations(JsonObject document) =>
        document["paths"]!.AsObject().SelectMany(path => path.Value!.AsObject()
            .Where(item => item.Value is JsonObject && item.Key is "get" or "post" or "put" or "patch" or "delete")
            .Select(item => (path.Key, item.Key, item.Value!.AsObject())));

    /// <summary>
    /// The OpenAPI Initiative's JSON Schema of an OpenAPI 3.1 document (schemas/v3.1/schema.json of
    /// the npm package @seriousme/openapi-schema-validator 2.11.0, id .../oas/3.1/schema/2026-08-03), vendored.
    /// </summary>
    private static JsonSchema OpenApi31Schema() =>
        JsonSchema.FromText(File.ReadAllText(RepositoryRoot.Combine("tests", "RaptorFlow.Tests", "Platform", "OpenApi", "openapi-3.1.schema.json")));

    [Fact]
    public async Task Served_document_is_valid_against_the_OpenAPI_3_1_schema()
    {
        var document = await DocumentAsync();
        Assert.StartsWith("3.1.", document["openapi"]!.GetValue<string>(), StringComparison.Ordinal);

        var result = OpenApi31Schema().Evaluate(document, new EvaluationOptions { OutputFormat = OutputFormat.List });

        Assert.True(result.IsValid, "Invalid OpenAPI 3.1:\n" + string.Join("\n", result.Details
            .Where(d => d.Errors is { Count: > 0 })
            .Take(20)
            .Select(d => $"{d.InstanceLocation}: {string.Join("; ", d.Errors!.Values)}")));
    }

    [Fact]
    public async Task The_validator_rejects_a_document_that_breaks_the_schema()
    {
        var document = await DocumentAsync();
        document["paths"]!["/api/healthz"]!["get"]!["responses"] = "none";
        document["components"]!["securitySchemes"]!["bearer"]!["type"] = "password";

        Assert.False(OpenApi31Schema().Evaluate(document).IsValid);
    }

    [Fact]
    public async Task Security_schemes_describe_bearer_tokens_and_api_keys()
    {
        var schemes = (await DocumentAsync())["components"]!["securitySchemes"]!;

        Assert.Equal("http", schemes["bearer"]!["type"]!.GetValue<string>());
        Assert.Equal("bearer", schemes["bearer"]!["scheme"]!.GetValue<string>());
        Assert.Equal("JWT", schemes["bearer"]!["bearerFormat"]!.GetValue<string>());
        Assert.Equal("apiKey", schemes["apiKey"]!["type"]!.GetValue<string>());
        Assert.Equal("header", schemes["apiKey"]!["in"]!.GetValue<string>());
        Assert.Equal("X-Api-Key", schemes["apiKey"]!["name"]!.GetValue<string>());
        Assert.Contains("Authorization: Bearer rf_", schemes["apiKey"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_non_public_operation_requires_a_bearer_token_or_an_api_key_and_public_ones_say_none()
    {
        var document = await DocumentAsync();
        var endpoints = EndpointsByOperation();
        var operations = Operations(document).ToList();
        Assert.NotEmpty(operations);

        foreach (var (path, method, operation) in operations)
        {
            Assert.True(endpoints.TryGetValue((method, path), out var endpoint), $"No endpoint for {method} {path}.");
            var security = operation["security"] as JsonArray;
            Assert.True(security is not null, $"{method} {path} has no security requirement.");
            var capability = endpoint.Metadata.GetMetadata<RequiredCapability>()?.Name;
            if (capability is null || endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            {
                Assert.True(security.Count == 0, $"Public {method} {path} should say security: [].");
                continue;
            }

            var schemes = security.Select(r => Assert.Single(r!.AsObject()).Key).ToList();
            Assert.True(schemes.Contains("bearer"), $"{method} {path} ({capability}) does not admit a bearer token.");
            Assert.Equal(Capability.OrgScoped.Contains(capability), schemes.Contains("apiKey"));
        }
    }

    [Fact]
    public async Task Problem_responses_share_one_schema_and_list_the_codes_the_operation_can_return()
    {
        var document = await DocumentAsync();
        var problem = document["components"]!["schemas"]!["Problem"]!;
        Assert.Equal("string", problem["properties"]!["code"]!["type"]!.GetValue<string>());
        Assert.Contains("code", problem["required"]!.AsArray().Select(r => r!.GetValue<string>()));

        foreach (var (path, method, operation) in Operations(document))
        {
            foreach (var (status, response) in operation["responses"]!.AsObject())
            {
                if (response!["content"]?["application/problem+json"] is { } media)
                {
                    Assert.True(media["schema"]?["$ref"]?.GetValue<string>() == "#/components/schemas/Problem", $"{method} {path} {status} does not use the Problem schema.");
                }
            }
        }

        var createOrg = Operation(document, "/api/v1/orgs", "post");
        AssertCodes(createOrg, "400", "validation.failed", "request.malformed_json", "idempotency.key_invalid");
        AssertCodes(createOrg, "401", "auth.unauthenticated");
        AssertCodes(createOrg, "403", "auth.capability_missing");
        AssertCodes(createOrg, "409", "idempotency.in_flight");
        AssertCodes(createOrg, "413", "request.body_too_large");
        AssertCodes(createOrg, "415", "request.unsupported_media_type");
        AssertCodes(createOrg, "422", "idempotency.key_reused");
        Assert.Contains(createOrg["parameters"]!.AsArray(), p => p!["name"]!.GetValue<string>() == "Idempotency-Key");

        var updateOrg = Operation(document, "/api/v1/orgs/{orgId}", "patch");
        AssertCodes(updateOrg, "404", "org.not_found");
        AssertCodes(updateOrg, "412", "precondition.failed");
        AssertCodes(updateOrg, "401", "auth.unauthenticated", "api_key.revoked");
        AssertCodes(updateOrg, "429", "rate_limit.exceeded");
        Assert.Contains(updateOrg["parameters"]!.AsArray(), p => p!["name"]!.GetValue<string>() == "If-Match");

        // A personal capability: no API key can call it, so no key problems, but a user's rate limit applies.
        Assert.Null(createOrg["responses"]!["401"]!["content"]!["application/problem+json"]!["examples"]!["api_key.revoked"]);
        AssertCodes(createOrg, "429", "rate_limit.exceeded");
    }

    [Fact]
    public async Task Every_json_post_and_patch_carries_an_example_body_and_the_create_org_example_is_accepted()
    {
        var document = await DocumentAsync();
        foreach (var (path, method, operation) in Operations(document).Where(o => WriteMethods.Contains(o.Method)))
        {
            if (operation["requestBody"]?["content"]?["application/json"] is { } media)
            {
                Assert.True(media["example"] is not null || media["examples"] is not null, $"{method} {path} has no request example.");
            }
        }

        var example = Operation(document, "/api/v1/orgs", "post")["requestBody"]!["content"]!["application/json"]!["example"]!;
        var user = await fixture.App.SignInAsync();
        example["slug"] = "acme-" + Guid.NewGuid().ToString("N")[..8];
        using var response = await user.Client.PostAsJsonAsync(new Uri("/api/v1/orgs", UriKind.Relative), example);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    private static JsonObject Operation(JsonObject document, string path, string method) =>
        document["paths"]![path]![method]!.AsObject();

    private static void AssertCodes(JsonObject operation, string status, params string[] codes)
    {
        var response = operation["responses"]![status];
        Assert.True(response is not null, $"No {status} response.");
        var examples = response!["content"]!["application/problem+json"]!["examples"]!.AsObject();
        foreach (var code in codes)
        {
            Assert.True(examples.ContainsKey(code), $"{status} does not list {code}; it lists {string.Join(", ", examples.Select(e => e.Key))}.");
            Assert.Contains(code, response["description"]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    private Dictionary<(string Method, string Path), RouteEndpoint> EndpointsByOperation()
    {
        var map = new Dictionary<(string, string), RouteEndpoint>();
        foreach (var endpoint in fixture.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var path = "/" + RouteParameter().Replace(endpoint.RoutePattern.RawText!.Trim('/'), "{$1}");
            foreach (var method in endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [])
            {
                map.TryAdd((method.ToLowerInvariant(), path), endpoint);
            }
        }

        return map;
    }

    [GeneratedRegex(@"\{\*?([^}:=?]+)[^}]*\}")]
    private static partial Regex RouteParameter();
}
