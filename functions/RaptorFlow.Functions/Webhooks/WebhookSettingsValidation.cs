using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Functions.Webhooks;

/// <summary>Private networks are reachable only off Azure: in Azure they would open the SSRF guard.</summary>
public sealed class WebhookSettingsValidation(IConfiguration configuration) : IValidateOptions<WebhookSettings>
{
    public ValidateOptionsResult Validate(string? name, WebhookSettings options) =>
        options.AllowPrivateNetworks && !string.IsNullOrWhiteSpace(configuration[AccessRegistration.AzureWebsiteSetting])
            ? ValidateOptionsResult.Fail($"Webhooks:AllowPrivateNetworks is true while running in Azure ({AccessRegistration.AzureWebsiteSetting} is set); it is for local work only.")
            : ValidateOptionsResult.Success;
}
