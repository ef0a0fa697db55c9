using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace RaptorFlow.Functions.Platform.Settings;

/// <summary>An options class that names its own configuration section.</summary>
public interface ISettingsSection
{
    static abstract string SectionName { get; }
}

/// <summary>
/// The app's settings types whose binding and validation are generated at compile time: one object
/// implementing <see cref="ISettingsBinding{T}"/> for each, and <see cref="IValidateOptions{TOptions}"/>
/// for each with validation attributes. The list names every feature's settings, so it is composed
/// next to <c>Program.cs</c> and handed to <c>AddPlatform</c>; a type missing from it is bound and
/// validated by reflection.
/// </summary>
public interface IGeneratedSettings;

/// <summary>Binds one settings type from its configuration section.</summary>
internal interface ISettingsBinding<in T>
{
    void Bind(IConfiguration section, T settings);
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
            .Configure<IConfiguration, IGeneratedSettings>((settings, configuration, generated) => Bind(generated, configuration.GetSection(T.SectionName), settings));
        services.AddSingleton<IOptionsChangeTokenSource<T>>(sp =>
            new ConfigurationChangeTokenSource<T>(options.Name, sp.GetRequiredService<IConfiguration>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<T>, SectionValidation<T>>());
        return options.ValidateOnStart();
    }

    /// <summary>Validates a nested settings object by its generated validator, for a section's own validation to call.</summary>
    public static ValidateOptionsResult Validate<T>(this IGeneratedSettings generated, string? name, T options)
        where T : class =>
        generated is IValidateOptions<T> validator
            ? validator.Validate(name, options)
            : throw new InvalidOperationException($"{typeof(T).Name} has no generated validator: add IValidateOptions<{typeof(T).Name}> to the generated settings.");

    internal static void Bind<T>(IGeneratedSettings generated, IConfiguration section, T settings)
        where T : class
    {
        if (generated is ISettingsBinding<T> binding)
        {
            binding.Bind(section, settings);
            return;
        }

        // A type not listed in the generated settings: the reflection binder, reached through a type the
        // generator does not intercept (it cannot bind an open T, and refuses to build if asked).
        new ConfigureFromConfigurationOptions<T>(section).Configure(settings);
    }
}

/// <summary>Fails validation with the full configuration key of each bad member
/// (<c>Hosting:Standalone:MaxDequeueCount: …</c>).</summary>
public sealed class SectionValidation<T>(IGeneratedSettings generated) : IValidateOptions<T> where T : class, ISettingsSection
{
    public ValidateOptionsResult Validate(string? name, T options)
    {
        if (generated is IValidateOptions<T> validator)
        {
            // Generated failures read "Member: message"; the section makes the member a configuration key.
            var result = validator.Validate(name, options);
            return result.Failed
                ? ValidateOptionsResult.Fail(result.Failures.Select(f => $"{T.SectionName}:{f}"))
                : result;
        }

        if (generated is ISettingsBinding<T>)
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
