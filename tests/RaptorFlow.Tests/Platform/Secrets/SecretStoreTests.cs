using System.Net;
using System.Text;
using Azure;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using NSubstitute.ExceptionExtensions;
using RaptorFlow.Functions.Platform.Secrets;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Razorpay;

namespace RaptorFlow.Tests.Platform.Secrets;

public sealed class SecretStoreTests
{
    private const string Name = RazorpaySecrets.WebhookSecret;
    private static readonly SecretDeclaration Webhook = new(Name, "Razorpay:WebhookSecret", KeepPrevious: true);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private SecretStore Store(ISecretProvider provider) =>
        new(provider, [Webhook], Options.Create(new SecretsSettings()), _time, NullLogger<SecretStore>.Instance);

    private static KeyVaultSecret VaultSecret(string value, string version, DateTimeOffset created) =>
        SecretModelFactory.KeyVaultSecret(SecretModelFactory.SecretProperties(name: Name, version: version, createdOn: created), value);

    private static SecretClient Vault(KeyVaultSecret current, params KeyVaultSecret[] older)
    {
        var client = Substitute.For<SecretClient>();
        var byVersion = older.ToDictionary(s => s.Properties.Version);
        client.GetSecretAsync(Name, Arg.Any<string?>(), Arg.Any<CancellationToken>()).Returns(call =>
            Response.FromValue(call.ArgAt<string?>(1) is { } version ? byVersion[version] : current, Substitute.For<Response>()));

        var versions = new[] { current }.Concat(older).Select(s => s.Properties).ToList();
        foreach (var properties in versions)
        {
            properties.Enabled = true;
        }

        client.GetPropertiesOfSecretVersionsAsync(Name, Arg.Any<CancellationToken>())
            .Returns(AsyncPageable<SecretProperties>.FromPages([Page<SecretProperties>.FromValues(versions, null, Substitute.For<Response>())]));
        return client;
    }

    [Fact]
    public async Task Key_vault_secret_comes_with_its_previous_version_and_rotation_time()
    {
        var rotatedAt = _time.GetUtcNow().AddMinutes(-10);
        var vault = Vault(VaultSecret("new", "v2", rotatedAt), VaultSecret("old", "v1", rotatedAt.AddDays(-30)));

        var value = await Store(new KeyVaultSecretProvider(vault)).GetAsync(Name, default);

        Assert.Equal("new", value!.Current);
        Assert.Equal("old", value.Previous);
        Assert.Equal(rotatedAt, value.RotatedAt);
    }

    [Fact]
    public async Task Cached_value_is_served_until_the_refresh_interval_then_fetched_again()
    {
        var provider = Substitute.For<ISecretProvider>();
        provider.FetchAsync(Webhook, Arg.Any<CancellationToken>()).Returns(new SecretValue("one"), new SecretValue("two"));
        var store = Store(provider);

        Assert.Equal("one", (await store.GetAsync(Name, default))!.Current);
        Assert.Equal("one", (await store.GetAsync(Name, default))!.Current);
        _time.Advance(TimeSpan.FromMinutes(6));
        var rotated = await store.GetAsync(Name, default);

        Assert.Equal("two", rotated!.Current);
        Assert.Equal("one", rotated.Previous);
        Assert.Equal(_time.GetUtcNow(), rotated.RotatedAt);
        await provider.Received(2).FetchAsync(Webhook, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Failed_refresh_keeps_serving_the_last_good_value()
    {
        var provider = Substitute.For<ISecretProvider>();
        provider.FetchAsync(Webhook, Arg.Any<CancellationToken>()).Returns(new SecretValue("good"));
        var store = Store(provider);
        await store.GetAsync(Name, default);
        provider.FetchAsync(Webhook, Arg.Any<CancellationToken>()).ThrowsAsync(new RequestFailedException(503, "vault down"));
        _time.Advance(TimeSpan.FromMinutes(6));

        Assert.Equal("good", (await store.GetAsync(Name, default))!.Current);
    }

    [Fact]
    public void Secret_value_never_prints_its_contents()
    {
        Assert.DoesNotContain("hunter2", new SecretValue("hunter2", "older").ToString(), StringComparison.Ordinal);
    }
}

/// <summary>A webhook secret rotated in the vault, seen through the real app.</summary>
public sealed class WebhookSecretRotationTests : IAsyncLifetime
{
    private readonly ISecretProvider _vault = Substitute.For<ISecretProvider>();
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        _vault.FetchAsync(Arg.Is<SecretDeclaration>(d => d.Name == RazorpaySecrets.WebhookSecret), Arg.Any<CancellationToken>())
            .Returns(new SecretValue("current-secret", "previous-secret", DateTimeOffset.UtcNow.AddMinutes(-5)));
        _app = await TestApp.StartAsync(
            new Dictionary<string, string?> { ["Razorpay:WebhookSecretOverlap"] = "01:00:00", ["Razorpay:EventsQueue"] = "rzp-rotation-" + Guid.NewGuid().ToString("N")[..12] },
            builder => builder.Services.AddSingleton(_vault));
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<HttpResponseMessage> SendAsync(string secret) =>
        await _app.Client.PostAsync(new Uri("/api/v1/webhooks/razorpay", UriKind.Relative),
            RazorpayTestKit.SignedBody(Encoding.UTF8.GetBytes(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 100, null)), secret, RazorpayTestKit.NewId("evt")));

    [Fact]
    public async Task Current_and_previous_secret_are_accepted_during_the_overlap()
    {
        using var current = await SendAsync("current-secret");
        using var previous = await SendAsync("previous-secret");

        Assert.Equal(HttpStatusCode.OK, current.StatusCode);
        Assert.Equal(HttpStatusCode.OK, previous.StatusCode);
    }

    [Fact]
    public async Task Previous_secret_is_refused_once_the_overlap_has_passed()
    {
        _vault.FetchAsync(Arg.Is<SecretDeclaration>(d => d.Name == RazorpaySecrets.WebhookSecret), Arg.Any<CancellationToken>())
            .Returns(new SecretValue("current-secret", "previous-secret", DateTimeOffset.UtcNow.AddHours(-2)));
        await using var fresh = await TestApp.StartAsync(
            new Dictionary<string, string?> { ["Razorpay:WebhookSecretOverlap"] = "01:00:00" },
            builder => builder.Services.AddSingleton(_vault));

        using var response = await fresh.Client.PostAsync(new Uri("/api/v1/webhooks/razorpay", UriKind.Relative),
            RazorpayTestKit.SignedBody(Encoding.UTF8.GetBytes(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 100, null)), "previous-secret", RazorpayTestKit.NewId("evt")));

        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "webhook.signature_invalid");
    }

    [Fact]
    public async Task Webhook_without_any_configured_secret_is_503_and_stores_nothing()
    {
        _vault.FetchAsync(Arg.Is<SecretDeclaration>(d => d.Name == RazorpaySecrets.WebhookSecret), Arg.Any<CancellationToken>())
            .Returns((SecretValue?)null);
        await using var unconfigured = await TestApp.StartAsync(customize: builder => builder.Services.AddSingleton(_vault));
        var eventId = RazorpayTestKit.NewId("evt");

        using var response = await unconfigured.Client.PostAsync(new Uri("/api/v1/webhooks/razorpay", UriKind.Relative),
            RazorpayTestKit.SignedBody(Encoding.UTF8.GetBytes(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 100, null)), "anything", eventId));

        await response.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "webhook.not_configured");
        Assert.Null(await unconfigured.InboxAsync(eventId));
    }
}
