using System.ComponentModel.DataAnnotations;
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
        return services.AddOptions<T>()
            .BindConfiguration(T.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
    }
}

/// <summary>Fails validation with the full configuration key of each bad member.</summary>
public sealed class SectionValidation<T> : IValidateOptions<T> where T : class, ISettingsSection
{
    public ValidateOptionsResult Validate(string? name, T options)
    {
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            return ValidateOptionsResult.Success;
        }

        return ValidateOptionsResult.Fail(results.Select(r =>
            $"{T.SectionName}:{string.Join(",", r.MemberNames)}: {r.ErrorMessage}"));
    }
}
