using System.Net;
using System.Text.Json.Nodes;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Infra;

public sealed class LocalSettingsSampleTests
{
    private readonly LocalSettingsSample _sample = LocalSettingsSample.Load();

    [Fact]
    public void Has_the_shape_func_start_accepts()
    {
        Assert.False((bool)_sample.Root["IsEncrypted"]!);
        var values = _sample.Root["Values"]!.AsObject();
        // The Functions host reads Values as a flat map of strings; nesting or numbers fail `func start`.
        Assert.All(values, kv => Assert.True(kv.Value is JsonValue v && v.TryGetValue<string>(out _), $"Values.{kv.Key} is not a string"));
        Assert.Equal("custom", _sample.Values["FUNCTIONS_WORKER_RUNTIME"]);
    }

    [Fact]
    public void Runs_against_azurite_with_the_development_issuer_on()
    {
        Assert.Equal("UseDevelopmentStorage=true", _sample.Values["AzureWebJobsStorage"]);
        Assert.Equal("true", _sample.Values["Auth__DevIssuer__Enabled"]);
        Assert.Equal("", _sample.Values["APPLICATIONINSIGHTS_CONNECTION_STRING"]);
        Assert.StartsWith("http://127.0.0.1:", _sample.Values["Hosting__Url"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AzureWebJobsStorage")]
    [InlineData("Hosting__Url")]
    [InlineData("Cors__AllowedOrigins__0")]
    [InlineData("APPLICATIONINSIGHTS_CONNECTION_STRING")]
    [InlineData("AzureAd__Instance")]
    [InlineData("AzureAd__TenantId")]
    [InlineData("AzureAd__ClientId")]
    [InlineData("AzureAd__Audience")]
    [InlineData("Auth__DevIssuer__Enabled")]
    [InlineData("KeyVault__Uri")]
    [InlineData("Razorpay__BaseUrl")]
    [InlineData("Razorpay__KeyId")]
    [InlineData("Razorpay__KeySecret")]
    [InlineData("Razorpay__WebhookSecret")]
    [InlineData("Auth__PlatformAdmins__0")]
    public void Lists_the_setting(string key) => Assert.Contains(key, _sample.Values.Keys);

    [Fact]
    public void Lists_every_setting_of_every_settings_section_the_app_binds()
    {
        var missing = SettingsSections.Keys().Where(key => !_sample.Values.ContainsKey(key)).ToList();
        Assert.True(missing.Count == 0, $"local.settings.sample.json lacks: {string.Join(", ", missing)}");
    }

    [Fact]
    public async Task The_app_starts_and_is_ready_with_the_sample_values()
    {
        // The sample as the host would pass it, with storage pointed at the test run's Azurite,
        // Kestrel on a free port, and no standalone pollers: the run's Azurite is shared, and they
        // would take messages from the default queues other tests' apps listen on.
        var settings = _sample.Values
            .Where(kv => kv.Key is not ("AzureWebJobsStorage" or "Hosting__Url"))
            .ToDictionary(kv => kv.Key.Replace("__", ":", StringComparison.Ordinal), kv => (string?)kv.Value, StringComparer.OrdinalIgnoreCase);
        settings["Hosting:Standalone:Enabled"] = "false";

        await using var app = await TestApp.StartAsync(settings);
        using var response = await app.Client.GetAsync(new Uri("/api/readyz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
