using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Idempotency;

public sealed class IdempotencyTests : IAsyncLifetime
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _slowRuns;
    private int _failingRuns;
    private TestApp _app = null!;

    public sealed record Probe(string Value);

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(SignedInUsers.WithDevIssuer(), mapMore: app =>
    {
        // A POST that holds until the test releases it, to observe a key while it is in flight.
        app.MapPost("/api/test/slow", async (Probe probe) =>
        {
            Interlocked.Increment(ref _slowRuns);
            _entered.TrySetResult();
            await _release.Task;
            return TypedResults.Ok(probe);
        }).RequireCapability(Capability.ProfileRead).WithIdempotency();

        // A POST that fails the first time: a failure must not be recorded as the key's answer.
        app.MapPost("/api/test/flaky", (Probe probe) => Interlocked.Increment(ref _failingRuns) == 1
            ? throw new InvalidOperationException("transient")
            : TypedResults.Ok(probe)).RequireCapability(Capability.ProfileRead).WithIdempotency();
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static Uri Orgs => new("/api/v1/orgs", UriKind.Relative);

    private static HttpRequestMessage Post(string path, object body, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative)) { Content = JsonContent.Create(body) };
        request.Headers.Add(IdempotencyMiddleware.KeyHeader, key);
        return request;
    }

    private static async Task<int> CountOrgsAsync(TestUser user) =>
        (await user.Client.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/orgs?limit=100", UriKind.Relative))).GetProperty("data").GetArrayLength();

    [Fact]
    public async Task Same_key_and_body_replays_the_first_response()
    {
        var user = await _app.SignInAsync();
        var key = Guid.NewGuid().ToString();
        using var first = await user.Client.SendAsync(Post("/api/v1/orgs", new { name = "Once" }, key));
        using var second = await user.Client.SendAsync(Post("/api/v1/orgs", new { name = "Once" }, key));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.False(first.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        Assert.Equal("true", second.Headers.GetValues(IdempotencyMiddleware.ReplayedHeader).Single());
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Equal(1, await CountOrgsAsync(user));
    }

    [Fact]
    public async Task Same_key_with_a_different_body_is_422()
    {
        var user = await _app.SignInAsync();
        var key = Guid.NewGuid().ToString();
        using var first = await user.Client.SendAsync(Post("/api/v1/orgs", new { name = "One" }, key));
        using var second = await user.Client.SendAsync(Post("/api/v1/orgs", new { name = "Two" }, key));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        await second.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency.key_reused");
        Assert.Equal(1, await CountOrgsAsync(user));
    }

    [Fact]
    public async Task Concurrent_duplicates_create_once()
    {
        var user = await _app.SignInAsync();
        var key = Guid.NewGuid().ToString();
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => user.Client.SendAsync(Post("/api/v1/orgs", new { name = "Racy" }, key))));
        try
        {
            Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, r.StatusCode.ToString()));
            var ids = new HashSet<string>();
            foreach (var created in responses.Where(r => r.StatusCode == HttpStatusCode.Created))
            {
                ids.Add((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
            }

            Assert.Single(ids);
            Assert.Equal(1, await CountOrgsAsync(user));
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_key_in_flight_is_409_then_replays_once_done()
    {
        var user = await _app.SignInAsync();
        var key = Guid.NewGuid().ToString();
        var first = user.Client.SendAsync(Post("/api/test/slow", new Probe("a"), key));
        await _entered.Task.WaitAsync(TimeSpan.FromSeconds(30));

        using (var duplicate = await user.Client.SendAsync(Post("/api/test/slow", new Probe("a"), key)))
        {
            await duplicate.ShouldBeProblemAsync(HttpStatusCode.Conflict, "idempotency.in_flight");
        }

        _release.SetResult();
        using var done = await first;
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        using var replay = await user.Client.SendAsync(Post("/api/test/slow", new Probe("a"), key));
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.True(replay.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        Assert.Equal(1, Volatile.Read(ref _slowRuns));
    }

    [Fact]
    public async Task A_failed_attempt_frees_the_key_for_a_retry()
    {
        var user = await _app.SignInAsync();
        var key = Guid.NewGuid().ToString();
        using var failed = await user.Client.SendAsync(Post("/api/test/flaky", new Probe("b"), key));
        await failed.ShouldBeProblemAsync(HttpStatusCode.InternalServerError, "internal_error");
        using var retried = await user.Client.SendAsync(Post("/api/test/flaky", new Probe("b"), key));
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.False(retried.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
    }

    [Fact]
    public async Task Keys_are_scoped_to_the_caller()
    {
        var alice = await _app.SignInAsync();
        var bob = await _app.SignInAsync();
        var key = Guid.NewGuid().ToString();
        using var a = await alice.Client.SendAsync(Post("/api/v1/orgs", new { name = "Shared key" }, key));
        using var b = await bob.Client.SendAsync(Post("/api/v1/orgs", new { name = "Shared key" }, key));
        Assert.Equal(HttpStatusCode.Created, a.StatusCode);
        Assert.Equal(HttpStatusCode.Created, b.StatusCode);
        Assert.False(b.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        Assert.NotEqual(await a.Content.ReadAsStringAsync(), await b.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("")]
    [InlineData("del\u007fchar")]
    public async Task Malformed_key_is_400_and_changes_nothing(string key)
    {
        var user = await _app.SignInAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, Orgs) { Content = JsonContent.Create(new { name = "Nope" }) };
        request.Headers.TryAddWithoutValidation(IdempotencyMiddleware.KeyHeader, key);
        using var response = await user.Client.SendAsync(request);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "idempotency.key_invalid");
        Assert.Equal(0, await CountOrgsAsync(user));
    }

    [Theory]
    [InlineData("e1|e2")] // two headers
    [InlineData("e1|e1")]
    [InlineData("e1,e2")] // one header listing two
    [InlineData("e1, e2")]
    public async Task More_than_one_key_is_400_and_changes_nothing(string headers)
    {
        var values = headers.Split('|');
        var user = await _app.SignInAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, Orgs) { Content = JsonContent.Create(new { name = "Nope" }) };
        request.Headers.TryAddWithoutValidation(IdempotencyMiddleware.KeyHeader, values);
        using var response = await user.Client.SendAsync(request);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "idempotency.key_invalid");
        Assert.Equal(0, await CountOrgsAsync(user));

        // Nothing was recorded under either key: each still starts a request of its own.
        foreach (var key in new[] { "e1", "e2" })
        {
            using var fresh = await user.Client.SendAsync(Post("/api/v1/orgs", new { name = "Fresh " + key }, key));
            Assert.Equal(HttpStatusCode.Created, fresh.StatusCode);
            Assert.False(fresh.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        }
    }

    [Fact]
    public async Task Over_long_key_is_400()
    {
        var user = await _app.SignInAsync();
        using var response = await user.Client.SendAsync(Post("/api/v1/orgs", new { name = "Nope" }, new string('k', 256)));
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "idempotency.key_invalid");
    }
}
