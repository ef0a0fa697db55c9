using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform.Access;

public sealed class AuthenticationTests(SignedInAppFixture fixture) : IClassFixture<SignedInAppFixture>
{
    private TestApp App => fixture.App;

    private static Uri Me => new("/api/v1/me", UriKind.Relative);

    [Fact]
    public async Task Dev_token_identifies_the_user_by_its_sub()
    {
        var user = await App.SignInAsync(email: " Ada@Example.TEST ", name: "Ada Lovelace");
        using var response = await user.Client.GetAsync(Me);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var me = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(user.Id, me.GetProperty("userId").GetString());
        Assert.Equal("ada@example.test", me.GetProperty("email").GetString());
        Assert.Equal("Ada Lovelace", me.GetProperty("name").GetString());
        Assert.Equal(0, me.GetProperty("orgs").GetArrayLength());
    }

    [Fact]
    public async Task Missing_token_is_a_401_problem_with_a_bearer_challenge()
    {
        using var response = await App.Client.GetAsync(Me);
        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "auth.unauthenticated");
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
    }

    [Theory]
    [InlineData("Bearer not-a-jwt")]
    [InlineData("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl")]
    [InlineData("Basic dXNlcjpwYXNz")]
    public async Task Invalid_token_is_a_401_problem(string authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Me);
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var response = await App.Client.SendAsync(request);
        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "auth.unauthenticated");
        Assert.NotEmpty(response.Headers.WwwAuthenticate);
    }

    [Fact]
    public async Task Token_from_another_issuer_key_is_rejected()
    {
        await using var other = await TestApp.StartAsync(SignedInUsers.WithDevIssuer());
        var foreign = await other.TokenAsync(SignedInUsers.NewUserId());
        using var request = new HttpRequestMessage(HttpMethod.Get, Me);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", foreign);
        using var response = await App.Client.SendAsync(request);
        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "auth.unauthenticated");
    }

    [Theory]
    [InlineData("X-Api-Key", "rf_live_something")]
    [InlineData("Authorization", "Bearer rf_live_something")]
    public async Task Api_key_credentials_go_to_the_key_scheme_which_rejects_a_malformed_key(string header, string value)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Me);
        request.Headers.TryAddWithoutValidation(header, value);
        using var response = await App.Client.SendAsync(request);
        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "api_key.malformed");
    }

    [Theory]
    [InlineData("{\"sub\":\"\"}")]
    [InlineData("{\"sub\":\"has/slash\"}")]
    [InlineData("{\"sub\":\"ok\",\"email\":\"not-an-email\"}")]
    [InlineData("{\"sub\":\"ok\",\"extra\":1}")]
    public async Task Dev_token_request_is_validated(string body)
    {
        using var response = await App.Client.PostAsync(new Uri("/api/dev/token", UriKind.Relative),
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Expired_token_is_rejected_by_the_apps_clock()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(SignedInUsers.WithDevIssuer(),
            clock: clock);
        var user = await app.SignInAsync();
        using (var fresh = await user.Client.GetAsync(Me))
        {
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        }

        clock.Advance(TimeSpan.FromMinutes(61));
        using var expired = await user.Client.GetAsync(Me);
        await expired.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "auth.unauthenticated");
    }

    [Fact]
    public async Task Dev_issuer_is_absent_unless_enabled()
    {
        await using var app = await TestApp.StartAsync();
        using var response = await app.Client.PostAsJsonAsync(new Uri("/api/dev/token", UriKind.Relative), new { sub = "someone" });
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "route.not_found");
        using var status = await app.Client.GetAsync(new Uri("/api/dev/status", UriKind.Relative));
        await status.ShouldBeProblemAsync(HttpStatusCode.NotFound, "route.not_found");
    }

    [Fact]
    public async Task Dev_status_tells_a_caller_without_credentials_that_the_dev_issuer_is_on()
    {
        using var response = await App.Client.GetAsync(new Uri("/api/dev/status", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var status = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(status.GetProperty("devIssuer").GetBoolean());
    }

    [Fact]
    public void App_refuses_to_start_with_the_dev_issuer_on_in_Azure()
    {
        var error = Assert.Throws<InvalidOperationException>(() => RaptorFlow.Functions.Program.Build(
            ["--Auth:DevIssuer:Enabled=true", "--WEBSITE_SITE_NAME=raptorflow-prod", "--AzureWebJobsStorage=UseDevelopmentStorage=true"]));
        Assert.Contains("DevIssuer", error.Message, StringComparison.Ordinal);
    }
}
