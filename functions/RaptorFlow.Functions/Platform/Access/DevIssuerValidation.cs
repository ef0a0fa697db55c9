using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Platform.Access;

/// <summary>The development issuer's rules, by the generated validator, failures named by their full key.</summary>
internal sealed class DevIssuerValidation(IGeneratedSettings generated) : IValidateOptions<AuthSettings>
{
    public ValidateOptionsResult Validate(string? name, AuthSettings options)
    {
        var result = generated.Validate(name, options.DevIssuer);
        return result.Failed
            ? ValidateOptionsResult.Fail(result.Failures.Select(f => $"{AuthSettings.SectionName}:DevIssuer:{f}"))
            : ValidateOptionsResult.Success;
    }
}
