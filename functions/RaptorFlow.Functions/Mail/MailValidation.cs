using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Functions.Mail;

/// <summary>What the chosen provider needs, checked on start; and no <c>None</c> in Azure, where it would drop every message.</summary>
internal sealed class MailValidation(IConfiguration configuration, IOptions<AcsEmailSettings> acs) : IValidateOptions<MailSettings>
{
    public ValidateOptionsResult Validate(string? name, MailSettings options)
    {
        var failures = new List<string>();
        if (options.Provider == MailProvider.None && !string.IsNullOrWhiteSpace(configuration[AccessRegistration.AzureWebsiteSetting]))
        {
            failures.Add($"Mail:Provider: None while running in Azure ({AccessRegistration.AzureWebsiteSetting} is set) would send no mail; choose Smtp or AzureCommunicationServices.");
        }

        if (options.Provider != MailProvider.None && !MimeKit.MailboxAddress.TryParse(options.FromAddress, out _))
        {
            failures.Add($"Mail:FromAddress: an email address is required when Mail:Provider is {options.Provider}.");
        }

        if (options.Provider == MailProvider.AzureCommunicationServices && acs.Value.Endpoint is not { IsAbsoluteUri: true })
        {
            failures.Add("Mail:Acs:Endpoint: required (an absolute URL) when Mail:Provider is AzureCommunicationServices.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
