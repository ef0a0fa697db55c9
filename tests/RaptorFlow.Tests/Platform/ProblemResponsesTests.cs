using System.Net;
using System.Net.Http.Headers;
using System.Text;
using RaptorFlow.Functions.Platform.Http;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform;

public sealed class ProblemResponsesTests : IAsyncLifetime
{
    private TestApp _app = null!;

    public sealed record EchoRequest(string Name, int Count);

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(mapMore: app =>
    {
        var test = app.MapGroup("/api/test").AllowAnonymous();
        test.MapPost("/echo", (EchoRequest request) => TypedResults.Ok(request));
        test.MapPost("/small", (EchoRequest request) => TypedResults.Ok(request)).WithRequestBodyLimit(1024);
        test.MapGet("/boom", string () => throw new InvalidOperationException("secret internals: AccountKey=abc"));
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Unknown_route_is_a_404_problem()
    {
        using var response = await _app.Client.GetAsync(new Uri("/api/v1/nothing-here", UriKind.Relative));
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "route.not_found");
    }

    [Fact]
    public async Task Wrong_method_is_a_405_problem()
    {
        using var response = await _app.Client.DeleteAsync(new Uri("/api/healthz", UriKind.Relative));
        await response.ShouldBeProblemAsync(HttpStatusCode.MethodNotAllowed, "method.not_allowed");
    }

    [Fact]
    public async Task Malformed_json_is_a_400_problem()
    {
        using var response = await _app.Client.PostAsync(new Uri("/api/test/echo", UriKind.Relative), Json("{\"name\": \"a\","));
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "request.malformed_json");
    }

    [Fact]
    public async Task Wrong_json_type_is_a_400_problem()
    {
        using var response = await _app.Client.PostAsync(new Uri("/api/test/echo", UriKind.Relative), Json("{\"name\": \"a\", \"count\": \"7\"}"));
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "request.malformed_json");
        Assert.Contains("count", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_json_property_is_rejected()
    {
        using var response = await _app.Client.PostAsync(new Uri("/api/test/echo", UriKind.Relative), Json("{\"name\": \"a\", \"count\": 1, \"isAdmin\": true}"));
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "request.malformed_json");
    }

    [Fact]
    public async Task Wrong_content_type_is_a_415_problem()
    {
        using var content = new StringContent("name=a", Encoding.UTF8, "application/x-www-form-urlencoded");
        using var response = await _app.Client.PostAsync(new Uri("/api/test/echo", UriKind.Relative), content);
        await response.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "request.unsupported_media_type");
    }

    [Fact]
    public async Task Body_over_the_default_limit_is_a_413_problem()
    {
        var big = "{\"name\": \"" + new string('x', 70 * 1024) + "\", \"count\": 1}";
        using var response = await _app.Client.PostAsync(new Uri("/api/test/echo", UriKind.Relative), Json(big));
        await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "request.body_too_large");
    }

    [Fact]
    public async Task Chunked_body_over_a_route_limit_is_stopped_while_streaming()
    {
        var big = "{\"name\": \"" + new string('x', 4096) + "\", \"count\": 1}";
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/test/small") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await _app.Client.SendAsync(request);
        await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "request.body_too_large");
    }

    [Fact]
    public async Task Unhandled_exception_is_a_500_problem_without_internals()
    {
        using var response = await _app.Client.GetAsync(new Uri("/api/test/boom", UriKind.Relative));
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.InternalServerError, "internal_error");
        var text = problem.GetRawText();
        Assert.DoesNotContain("AccountKey", text, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", text, StringComparison.Ordinal);
        Assert.Equal(response.Headers.GetValues("x-request-id").Single(), problem.GetProperty("requestId").GetString());
    }

    [Fact]
    public async Task Valid_request_still_succeeds()
    {
        using var response = await _app.Client.PostAsync(new Uri("/api/test/echo", UriKind.Relative), Json("{\"name\": \"ünïcødé ✓\", \"count\": 3}"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("ünïcødé ✓", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
