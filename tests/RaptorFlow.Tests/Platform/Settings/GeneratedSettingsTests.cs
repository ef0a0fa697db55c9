using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions;
using RaptorFlow.Functions.Hosting.Standalone;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Settings;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Tests.Infra;

namespace RaptorFlow.Tests.Platform.Settings;

/// <summary>
/// Settings are bound and validated by generated code; these pin that every settings type is
/// covered, and that values and failures read as they did with the reflection binder.
/// </summary>
public sealed class GeneratedSettingsTests
{
    private static readonly string[] Storage = ["--environment=Testing", "--AzureWebJobsStorage=UseDevelopmentStorage=true"];

    [Fact]
    public void Every_settings_section_is_bound_by_generated_code()
    {
        var types = SettingsSections.Types().ToList();
        Assert.Contains(typeof(RazorpaySettings), types);
        var missing = types.Where(t => !typeof(ISettingsBinding<>).MakeGenericType(t).IsAssignableFrom(typeof(GeneratedSettings))).ToList();
        Assert.True(missing.Count == 0, "Add ISettingsBinding<T> and its Bind to GeneratedSettings for:\n" + string.Join("\n", missing));
    }

    [Fact]
    public void Every_settings_section_with_validation_attributes_has_a_generated_validator()
    {
        foreach (var type in SettingsSections.Types())
        {
            var hasRules = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Any(p => p.GetCustomAttributes<ValidationAttribute>().Any());
            var generated = typeof(IValidateOptions<>).MakeGenericType(type).IsAssignableFrom(typeof(GeneratedSettings));
            Assert.True(hasRules == generated, hasRules
                ? $"{type.Name} has validation attributes: add IValidateOptions<{type.Name}> to GeneratedSettings."
                : $"{type.Name} has no validation attributes: the generator refuses IValidateOptions<{type.Name}>.");
        }
    }

    [Fact]
    public void Every_nested_settings_object_with_validation_attributes_has_a_generated_validator()
    {
        var nested = SettingsSections.Types()
            .SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            .Select(p => p.PropertyType)
            .Where(t => t.IsClass && t.Assembly == typeof(GeneratedSettings).Assembly)
            .Where(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Any(p => p.GetCustomAttributes<ValidationAttribute>().Any()))
            .ToList();

        Assert.Contains(typeof(DevIssuerSettings), nested);
        Assert.All(nested, t => Assert.True(typeof(IValidateOptions<>).MakeGenericType(t).IsAssignableFrom(typeof(GeneratedSettings)),
            $"{t.Name} has validation attributes: add IValidateOptions<{t.Name}> to GeneratedSettings and call it from its section's validation."));
    }

    [Fact]
    public async Task Configured_values_reach_the_settings_through_the_generated_binder()
    {
        await using var app = Program.Build([.. Storage,
            "--Razorpay:BaseUrl=https://razorpay.example.test/v2/",
            "--Razorpay:AttemptTimeout=00:00:07",
            "--Razorpay:MaxRetries=2",
            "--Auth:PlatformAdmins:0=admin-1",
            "--Auth:PlatformAdmins:1=admin-2",
            "--Auth:DevIssuer:TokenLifetimeMinutes=15",
            "--Hosting:Standalone:Enabled=false"]);

        var razorpay = app.Services.GetRequiredService<IOptions<RazorpaySettings>>().Value;
        Assert.Equal(new Uri("https://razorpay.example.test/v2/"), razorpay.BaseUrl);
        Assert.Equal(TimeSpan.FromSeconds(7), razorpay.AttemptTimeout);
        Assert.Equal(2, razorpay.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(45), razorpay.TotalTimeout);

        var auth = app.Services.GetRequiredService<IOptions<AuthSettings>>().Value;
        Assert.Equal(["admin-1", "admin-2"], auth.PlatformAdmins);
        Assert.Equal(15, auth.DevIssuer.TokenLifetimeMinutes);
        Assert.False(app.Services.GetRequiredService<IOptions<StandaloneTriggerSettings>>().Value.Enabled);
    }

    [Theory]
    [InlineData("Hosting:Standalone:MaxDequeueCount", "0")]
    [InlineData("Razorpay:AttemptTimeout", "00:05:00")]
    [InlineData("Invoices:NumberSeries", "rf")]
    [InlineData("Invoices:SellerGstin", "not-a-gstin")]
    [InlineData("ApiKeys:CacheSeconds", "31")]
    [InlineData("Usage:Meter:FlushInterval", "00:00:00")]
    [InlineData("Plans:Catalog:pro:Currency", "inr")]
    [InlineData("Plans:Catalog:pro:Meters:api_calls:UnitSize", "0")]
    [InlineData("Auth:DevIssuer:TokenLifetimeMinutes", "0")]
    [InlineData("Auth:DevIssuer:Audience", "")]
    public async Task An_invalid_setting_fails_start_up_naming_its_configuration_key(string key, string value)
    {
        await using var app = Program.Build(["--urls=http://127.0.0.1:0", .. Storage, $"--{key}={value}"]);
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
        var failure = Assert.Single(error.Failures);
        Assert.StartsWith(key + ": ", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_setting_of_the_wrong_type_fails_start_up_naming_its_configuration_key()
    {
        await using var app = Program.Build(["--urls=http://127.0.0.1:0", .. Storage, "--Hosting:Standalone:BatchSize=many"]);
        var error = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => app.StartAsync());
        Assert.Contains("Hosting:Standalone:BatchSize", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_valid_configuration_passes_validation()
    {
        var settings = new StandaloneTriggerSettings();
        Assert.True(new SectionValidation<StandaloneTriggerSettings>(GeneratedSettings.Instance).Validate(Options.DefaultName, settings).Succeeded);
        Assert.True(new SectionValidation<AuthSettings>(GeneratedSettings.Instance).Validate(Options.DefaultName, new AuthSettings()).Succeeded);
    }
}
