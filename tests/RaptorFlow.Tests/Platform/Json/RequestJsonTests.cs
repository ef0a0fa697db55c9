using System.Net;
using System.Text;
using System.Text.Json;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform.Json;

/// <summary>How every request body is read: one wire name per enum value, each property once.</summary>
public sealed class RequestJsonTests : IAsyncLifetime
{
    private TestApp _app = null!;

    public enum Shade
    {
        Light,
        Dark,
        PitchBlack,
    }

    [Flags]
    public enum Edges
    {
        None = 0,
        Top = 1,
        Bottom = 2,
    }

    public sealed record Paint(string Name, Shade Shade, Shade? Trim = null, Dictionary<Shade, int>? Coats = null, Edges Edges = Edges.None);

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(mapMore: app =>
        app.MapGroup("/api/test").AllowAnonymous().MapPost("/paint", (Paint paint) => TypedResults.Ok(paint)));

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private Task<HttpResponseMessage> PostAsync(string body) =>
        _app.Client.PostAsync(new Uri("/api/test/paint", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));

    [Theory]
    [InlineData("""{"name":"a","shade":"light, dark"}""", "shade")]
    [InlineData("""{"name":"a","shade":"light,dark"}""", "shade")]
    [InlineData("""{"name":"a","shade":"dark,dark"}""", "shade")]
    [InlineData("""{"name":"a","shade":"light\u002c dark"}""", "shade")]
    [InlineData("""{"name":"a","shade":"dark","trim":"light, dark"}""", "trim")]
    [InlineData("""{"name":"a","shade":"dark","coats":{"light, dark":2}}""", "coats")]
    [InlineData("""{"name":"a","shade":1}""", "shade")]
    [InlineData("""{"name":"a","shade":"1"}""", "shade")]
    [InlineData("""{"name":"a","shade":"grey"}""", "shade")]
    [InlineData("""{"name":"a","shade":""}""", "shade")]
    public async Task An_enum_takes_exactly_one_of_its_names_else_the_body_is_malformed_and_the_field_lists_them(string body, string field)
    {
        using var response = await PostAsync(body);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "request.malformed_json");
        Assert.Contains("$.", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var error = Assert.Single(problem.GetProperty("errors").EnumerateObject());
        Assert.StartsWith(field, error.Name, StringComparison.Ordinal);
        Assert.Equal("One of: light, dark, pitch_black.", Assert.Single(error.Value.EnumerateArray()).GetString());
    }

    [Theory]
    [InlineData("""{"name":5,"shade":"dark"}""", "name")]
    [InlineData("""{"name":"a","shade":"dark","colour":"red"}""", "colour")]
    public async Task A_value_of_the_wrong_type_or_an_unknown_property_is_named_in_the_errors(string body, string field)
    {
        using var response = await PostAsync(body);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "request.malformed_json");
        Assert.Equal(field, Assert.Single(problem.GetProperty("errors").EnumerateObject()).Name);
    }

    [Theory]
    [InlineData("pitch_black", "pitch_black")]
    [InlineData("dark", "dark")]
    [InlineData("Dark", "dark")]
    public async Task An_enum_name_is_read_as_before(string sent, string echoed)
    {
        using var response = await PostAsync("{\"name\":\"a\",\"shade\":\"" + sent + "\",\"coats\":{\"" + sent + "\":2}}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(echoed, json.RootElement.GetProperty("shade").GetString());
        Assert.Equal(2, json.RootElement.GetProperty("coats").GetProperty(echoed).GetInt32());
    }

    [Fact]
    public async Task A_flags_enum_still_takes_a_list_of_names()
    {
        using var response = await PostAsync("""{"name":"a","shade":"dark","edges":"top, bottom"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("top, bottom", json.RootElement.GetProperty("edges").GetString());
    }

    [Theory]
    [InlineData("""{"name":"a","name":"b","shade":"dark"}""")]
    [InlineData("""{"name":"a","Name":"b","shade":"dark"}""")]
    [InlineData("""{"name":"a","shade":"dark","shade":"light"}""")]
    [InlineData("""{"name":"a","shade":"dark","coats":{"dark":1,"dark":2}}""")]
    public async Task A_property_given_twice_makes_the_body_malformed(string body)
    {
        using var response = await PostAsync(body);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "request.malformed_json");
    }
}
