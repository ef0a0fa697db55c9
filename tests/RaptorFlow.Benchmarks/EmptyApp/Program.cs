using System.Text.Json.Serialization;

// The smallest app that answers the same two things the Functions host and the driver ask of
// RaptorFlow: GET / (host readiness) and GET /api/healthz, on FUNCTIONS_CUSTOMHANDLER_PORT.
// Its JSON is source-generated so the same code also publishes as Native AOT.
var builder = WebApplication.CreateBuilder(args);
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, EmptyAppJson.Default));
var port = builder.Configuration["FUNCTIONS_CUSTOMHANDLER_PORT"];
builder.WebHost.UseUrls(port is null ? builder.Configuration["Hosting:Url"] ?? "http://127.0.0.1:7072" : $"http://127.0.0.1:{port}");

var app = builder.Build();
app.MapGet("/api/healthz", () => TypedResults.Ok(new Health("ok", DateTimeOffset.UtcNow)));
app.Run();

internal sealed record Health(string Status, DateTimeOffset Time);

[JsonSerializable(typeof(Health))]
internal sealed partial class EmptyAppJson : JsonSerializerContext;
