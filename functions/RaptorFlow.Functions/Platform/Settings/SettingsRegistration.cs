using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace RaptorFlow.Functions.Platform.Settings;

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
