using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Razorpay;

namespace RaptorFlow.Tests.Platform.Json;

/// <summary>
/// The generated JSON metadata must cover every type the endpoints read and write, and must
/// describe each the way reflection would under the same options, so the context can neither
/// drift behind the endpoints nor change the wire format.
/// </summary>
public sealed class JsonContextTests : IAsyncLifetime
{
    private WebApplication _app = null!;

    public Task InitializeAsync()
    {
        // Built, not started: the route table is complete without storage or a listening server.
        _app = Program.Build(["--environment=Testing", "--AzureWebJobsStorage=UseDevelopmentStorage=true", "--Auth:DevIssuer:Enabled=true"]);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private JsonSerializerOptions HttpOptions => _app.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;

    private List<(string Endpoint, Type Type)> EndpointBodyTypes()
    {
        var endpoints = ((IEndpointRouteBuilder)_app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>().ToList();
        Assert.True(endpoints.Count > 40, $"Only {endpoints.Count} endpoints were mapped.");
        var found = new List<(string, Type)>();
        foreach (var endpoint in endpoints)
        {
            var name = $"{string.Join(",", endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [])} {endpoint.RoutePattern.RawText}";
            found.AddRange(endpoint.Metadata.OfType<IAcceptsMetadata>().Select(a => a.RequestType).OfType<Type>().Select(t => (name, t)));
            found.AddRange(endpoint.Metadata.OfType<IProducesResponseTypeMetadata>()
                .Where(p => p.ContentTypes.Any(c => c.Contains("json", StringComparison.OrdinalIgnoreCase)))
                .Select(p => p.Type).OfType<Type>().Where(t => t != typeof(void)).Select(t => (name, t)));
        }

        return found;
    }

    [Fact]
    public void Every_endpoint_request_and_response_type_has_generated_metadata()
    {
        var types = EndpointBodyTypes();
        Assert.Contains(types, t => t.Type.Name == "CreateOrganizationRequest");
        Assert.Contains(types, t => t.Type.Name == "ProblemDetails");

        var missing = types.Where(t => ApiJsonContext.Default.GetTypeInfo(t.Type) is null)
            .Select(t => $"{t.Type} ({t.Endpoint})").Distinct().ToList();
        Assert.True(missing.Count == 0, "Add [JsonSerializable(typeof(...))] to ApiJsonContext for:\n" + string.Join("\n", missing));
    }

    [Fact]
    public void The_http_json_options_resolve_endpoint_types_from_the_generated_context()
    {
        var options = HttpOptions;
        // Ahead of reflection; the OpenAPI package's own context (its schema types only) may precede it.
        var chain = options.TypeInfoResolverChain.ToList();
        var generated = chain.IndexOf(ApiJsonContext.Default);
        Assert.InRange(generated, 0, chain.FindIndex(r => r is DefaultJsonTypeInfoResolver) - 1);

        var reflected = EndpointBodyTypes().Select(t => t.Type).Distinct()
            .Where(t => options.GetTypeInfo(t).OriginatingResolver is not ApiJsonContext)
            .ToList();
        Assert.True(reflected.Count == 0, "Resolved by reflection:\n" + string.Join("\n", reflected));
    }

    [Fact]
    public void Generated_metadata_describes_endpoint_types_as_reflection_does_under_the_http_options()
    {
        AssertSameContracts(HttpOptions, EndpointBodyTypes().Select(t => t.Type));
    }

    [Fact]
    public void Stored_documents_and_razorpay_bodies_use_the_generated_context_with_their_own_options()
    {
        (JsonSerializerOptions Options, Type Type)[] documents =
        [
            (AuditJson.Options, typeof(Dictionary<string, AuditChange>)),
            (InvoiceBook.LineJson, typeof(List<InvoiceLine>)),
            (RazorpayClient.Json, typeof(CreatePaymentLinkRequest)),
            (RazorpayClient.Json, typeof(RazorpayPayment)),
        ];
        foreach (var (options, type) in documents)
        {
            Assert.IsType<ApiJsonContext>(options.GetTypeInfo(type).OriginatingResolver);
            AssertSameContracts(options, [type]);
        }
    }

    [Fact]
    public void Razorpay_bodies_keep_snake_case_names_through_the_generated_context()
    {
        var json = JsonSerializer.Serialize(new CreatePaymentLinkRequest(100_00, "INR", "Invoice", ReferenceId: "bill_1"), RazorpayClient.Json);
        Assert.Equal("""{"amount":10000,"currency":"INR","description":"Invoice","reference_id":"bill_1"}""", json);
    }

    /// <summary>Compares, type by type and transitively, what the context generates with what reflection builds for the same options.</summary>
    private static void AssertSameContracts(JsonSerializerOptions runtime, IEnumerable<Type> roots)
    {
        var generated = new JsonSerializerOptions(runtime) { TypeInfoResolver = ApiJsonContext.Default };
        var reflection = new JsonSerializerOptions(runtime) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
        var pending = new Queue<Type>(roots.Distinct());
        var seen = new HashSet<Type>();
        var differences = new List<string>();
        while (pending.TryDequeue(out var type))
        {
            if (!seen.Add(type) || type == typeof(object))
            {
                continue;
            }

            var ours = generated.GetTypeInfo(type);
            var theirs = reflection.GetTypeInfo(type);
            if (ours.Kind != theirs.Kind)
            {
                differences.Add($"{type}: {ours.Kind} vs {theirs.Kind}");
            }

            if (ours.UnmappedMemberHandling != theirs.UnmappedMemberHandling || ours.NumberHandling != theirs.NumberHandling)
            {
                differences.Add($"{type}: unmapped {ours.UnmappedMemberHandling}/{theirs.UnmappedMemberHandling}, numbers {ours.NumberHandling}/{theirs.NumberHandling}");
            }

            var ourProperties = ours.Properties.Select(Describe).Order(StringComparer.Ordinal).ToList();
            var theirProperties = theirs.Properties.Select(Describe).Order(StringComparer.Ordinal).ToList();
            if (!ourProperties.SequenceEqual(theirProperties))
            {
                differences.Add($"{type}:\n  generated  {string.Join(", ", ourProperties)}\n  reflection {string.Join(", ", theirProperties)}");
            }

            foreach (var next in theirs.Properties.Select(p => p.PropertyType)
                .Append(theirs.ElementType).Append(theirs.KeyType).OfType<Type>())
            {
                pending.Enqueue(Nullable.GetUnderlyingType(next) ?? next);
            }
        }

        Assert.True(differences.Count == 0, string.Join("\n", differences));
        Assert.NotEmpty(seen);
    }

    private static string Describe(JsonPropertyInfo p) =>
        $"{p.Name}:{p.PropertyType.Name}{(p.Get is null ? "" : " get")}{(p.Set is null ? "" : " set")}{(p.IsRequired ? " required" : "")}"
        + $"{(p.CustomConverter is null ? "" : " " + p.CustomConverter.GetType().Name)}{(p.NumberHandling is null ? "" : " " + p.NumberHandling)}"
        + $"{(p.ShouldSerialize is null ? "" : " conditional")}{(p.IsExtensionData ? " extension" : "")}";
}
