using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace RaptorFlow.Functions.Platform.Settings;

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
