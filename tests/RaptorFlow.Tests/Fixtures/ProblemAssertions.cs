using System.Net;
using System.Text.Json;

namespace RaptorFlow.Tests.Fixtures;

public static class ProblemAssertions
{
    /// <summary>Asserts an RFC 9457 problem with the given status and stable code; returns its JSON.</summary>
    public static async Task<JsonElement> ShouldBeProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status} but got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal(code, json.GetProperty("code").GetString());
        Assert.Equal((int)status, json.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("title").GetString()));
        Assert.StartsWith("urn:raptorflow:problem:", json.GetProperty("type").GetString());
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        return json;
    }
}
