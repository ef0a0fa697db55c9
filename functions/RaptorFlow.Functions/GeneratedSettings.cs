using Microsoft.Extensions.Options;
using RaptorFlow.Functions.ApiKeys;
using RaptorFlow.Functions.Hosting.Standalone;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Mail;
using RaptorFlow.Functions.Payments;
using RaptorFlow.Functions.Plans;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Http;
using RaptorFlow.Functions.Platform.OpenApi;
using RaptorFlow.Functions.Platform.RateLimiting;
using RaptorFlow.Functions.Platform.Secrets;
using RaptorFlow.Functions.Platform.Settings;
using RaptorFlow.Functions.Privacy;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Functions.Usage;
using RaptorFlow.Functions.Webhooks;

namespace RaptorFlow.Functions;

/// <summary>
/// The settings types whose binding and validation are generated at compile time, instead of done
/// by reflection at start-up: each <c>section.Bind(settings)</c> below is a call the
/// configuration-binding generator replaces with generated code, and
/// <see cref="OptionsValidatorAttribute"/> generates the DataAnnotations checks of every
/// <see cref="IValidateOptions{TOptions}"/> listed. A type bound here without a validator has no
/// validation attributes (the generator refuses such a type). A type missing here still works,
/// by reflection (<see cref="SettingsRegistration"/>); a test fails for it, and for a type whose
/// attributes have no generated validator. The plan catalog's entries are validated here too
/// (by <c>PlanSettingsValidation</c>), and the development issuer's (by <c>DevIssuerValidation</c>).
/// </summary>
[OptionsValidator]
internal sealed partial class GeneratedSettings : IGeneratedSettings,
    ISettingsBinding<ApiDocsSettings>, IValidateOptions<ApiDocsSettings>,
    ISettingsBinding<ApiKeySettings>, IValidateOptions<ApiKeySettings>,
    ISettingsBinding<AuthSettings>, IValidateOptions<DevIssuerSettings>,
    ISettingsBinding<CorsSettings>,
    ISettingsBinding<ErasureSettings>, IValidateOptions<ErasureSettings>,
    ISettingsBinding<InvoiceSettings>, IValidateOptions<InvoiceSettings>,
    ISettingsBinding<KeyVaultSettings>,
    ISettingsBinding<MailSettings>, IValidateOptions<MailSettings>,
    ISettingsBinding<SmtpSettings>, IValidateOptions<SmtpSettings>,
    ISettingsBinding<AcsEmailSettings>, IValidateOptions<AcsEmailSettings>,
    ISettingsBinding<MailLinkSettings>, IValidateOptions<MailLinkSettings>,
    ISettingsBinding<PaymentsSettings>, IValidateOptions<PaymentsSettings>,
    ISettingsBinding<PlanSettings>, IValidateOptions<PlanSettings>,
    IValidateOptions<PlanDefinition>, IValidateOptions<MeterPriceDefinition>,
    ISettingsBinding<RateLimitSettings>, IValidateOptions<RateLimitSettings>,
    ISettingsBinding<RetentionSettings>, IValidateOptions<RetentionSettings>,
    ISettingsBinding<RazorpaySettings>, IValidateOptions<RazorpaySettings>,
    ISettingsBinding<SecretsSettings>, IValidateOptions<SecretsSettings>,
    ISettingsBinding<StandaloneTriggerSettings>, IValidateOptions<StandaloneTriggerSettings>,
    ISettingsBinding<UsageMeterSettings>, IValidateOptions<UsageMeterSettings>,
    ISettingsBinding<WebhookSettings>, IValidateOptions<WebhookSettings>
{
    public static GeneratedSettings Instance { get; } = new();

    public void Bind(IConfiguration section, ApiDocsSettings settings) => section.Bind(settings);

    public void Bind(IConfiguration section, ApiKeySettings settings) => section.Bind(settings);

    public void Bind(IConfiguration section, AuthSettings settings) => section.Bind(settings);

    public void Bind(IConfiguration section, CorsSettings settings) => section.Bind(settings);

    public void Bind(IConfiguration section, ErasureSettings settings) => section.Bind(settings);

    public void Bind(IConfiguration section, InvoiceSettings settings) => section.Bind(settings);

    public void Bind(IConfiguration section, KeyVaultSettings settings) => section.Bind(settings);

    public void Bind(IConfiguration section, MailSettings settings) => section.Bind(settings);

    public void Bind(IConfiguration section, SmtpSettings settings) => section.Bind(settings);

    public void Bind(IConfiguration section, AcsEmailSettings settings) => section.Bind(settings);
    public void Bind(IConfiguration section, MailLinkSettings settings) => section.Bind(settings);

    public void Bind(IConfiguration section, PaymentsSettings settings) => section.Bind(settings);

    public void Bind(IConfiguration section, PlanSettings settings) => section.Bind(settings);

    public void Bind(IConfiguration section, RateLimitSettings settings) => section.Bind(settings);

    public void Bind(IConfiguration section, RazorpaySettings settings) => section.Bind(settings);

    public void Bind(IConfiguration section, SecretsSettings settings) => section.Bind(settings);

    public void Bind(IConfiguration section, StandaloneTriggerSettings settings) => section.Bind(settings);

    public void Bind(IConfiguration section, RetentionSettings settings) => section.Bind(settings);

    public void Bind(IConfiguration section, UsageMeterSettings settings) => section.Bind(settings);

    public void Bind(IConfiguration section, WebhookSettings settings) => section.Bind(settings);
}
