using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace RaptorFlow.Functions.Platform.Settings;

/// <summary>An options class that names its own configuration section.</summary>
public interface ISettingsSection
{
    static abstract string SectionName { get; }
}

public static class SettingsRegistration
{
    /// <summary>Binds <typeparamref name="T"/> to its section and validates it when the app starts,
    /// so a missing or malformed setting stops start-up with a message naming it.</summary>
    public static OptionsBuilder<T> AddSettings<T>(this IServiceCollection services)
        where T : class, ISettingsSection
    {
        // What BindConfiguration does, through the generated binder when there is one.
        var options = services.AddOptions<T>()
            .Configure<IConfiguration>((settings, configuration) => Bind(configuration.GetSection(T.SectionName), settings));
        services.AddSingleton<IOptionsChangeTokenSource<T>>(sp =>
            new ConfigurationChangeTokenSource<T>(options.Name, sp.GetRequiredService<IConfiguration>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<T>, SectionValidation<T>>());
        return options.ValidateOnStart();
    }

    internal static void Bind<T>(IConfiguration section, T settings)
        where T : class
    {
        if (GeneratedSettings.Instance is ISettingsBinding<T> generated)
        {
            generated.Bind(section, settings);
            return;
        }

        // A type not listed in GeneratedSettings: the reflection binder, reached through a type the
        // generator does not intercept (it cannot bind an open T, and refuses to build if asked).
        new ConfigureFromConfigurationOptions<T>(section).Configure(settings);
    }
}

/// <summary>Fails validation with the full configuration key of each bad member
/// (<c>Hosting:Standalone:MaxDequeueCount: …</c>).</summary>
public sealed class SectionValidation<T> : IValidateOptions<T> where T : class, ISettingsSection
{
    public ValidateOptionsResult Validate(string? name, T options)
    {
        if (GeneratedSettings.Instance is IValidateOptions<T> generated)
        {
            // Generated failures read "Member: message"; the section makes the member a configuration key.
            var result = generated.Validate(name, options);
            return result.Failed
                ? ValidateOptionsResult.Fail(result.Failures.Select(f => $"{T.SectionName}:{f}"))
                : result;
        }

        if (GeneratedSettings.Instance is ISettingsBinding<T>)
        {
            // Listed without a validator: the type has no validation attributes (a test checks).
            return ValidateOptionsResult.Success;
        }

        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            return ValidateOptionsResult.Success;
        }

        return ValidateOptionsResult.Fail(results.Select(r =>
            $"{T.SectionName}:{string.Join(",", r.MemberNames)}: {r.ErrorMessage}"));
    }
}
