using Azure.Identity;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Http;
using RaptorFlow.Functions.Platform.Secrets;
using RaptorFlow.Functions.Platform.Settings;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Mail;

/// <summary>Email: the outbox queue, what puts mail on it, and what sends it.</summary>
public static class MailRegistration
{
    public static WebApplicationBuilder AddMail(this WebApplicationBuilder builder)
    {
        var services = builder.Services;

        // Configurable so each test app can use its own queue; in Azure it is always mail-outbox.
        var queue = new MailQueue(builder.Configuration["Mail:Queue"] ?? MailQueue.Default);
        services.AddSingleton(queue);
        services.AddStorageQueue(queue.Name);
        services.AddSingleton<MailOutbox>();
        builder.AddMailContent();

        services.AddSettings<MailSettings>();
        services.AddSettings<SmtpSettings>();
        services.AddSettings<AcsEmailSettings>();
        services.AddSingleton<IValidateOptions<MailSettings>, MailValidation>();
        services.AddStorageTable(SentMail.TableName);
        services.AddSingleton<SentMail>();
        services.AddQueueFunction<SendEmail>(SendEmail.FunctionName, queue.Name);

        services.AddSecret(SmtpMailProvider.PasswordSecret, SmtpMailProvider.PasswordSetting);
        services.AddKeyedSingleton<IMailProvider, SmtpMailProvider>(MailProvider.Smtp);

        // Created on first use: only an app that sends through ACS looks for an identity.
        services.AddSingleton(sp => new MailCredential(
            new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = builder.Configuration["AZURE_CLIENT_ID"] }),
            sp.GetRequiredService<TimeProvider>()));
        services.AddTransient<AcsBearerToken>();
        services.AddHttpClient<AcsEmailClient>((sp, http) =>
            {
                // Validation requires an absolute endpoint whenever ACS is the provider; the client is never used otherwise.
                var configured = sp.GetRequiredService<IOptions<AcsEmailSettings>>().Value.Endpoint;
                var endpoint = configured is { IsAbsoluteUri: true } ? configured.ToString() : "https://acs.invalid/";
                http.BaseAddress = new Uri(endpoint.EndsWith('/') ? endpoint : endpoint + "/");
                http.Timeout = Timeout.InfiniteTimeSpan; // the resilience pipeline owns timeouts
            })
            .AddHttpMessageHandler<AcsBearerToken>()
            // Every call is safe to repeat: a send names its operation id, a poll only reads.
            .AddRestResilience<AcsEmailSettings>("acs-email", (outcome, _) =>
                outcome.Result is { StatusCode: System.Net.HttpStatusCode.TooManyRequests or >= System.Net.HttpStatusCode.InternalServerError }
                || outcome.Exception is HttpRequestException or Polly.Timeout.TimeoutRejectedException);
        services.AddKeyedTransient<IMailProvider>(MailProvider.AzureCommunicationServices, (sp, _) => sp.GetRequiredService<AcsEmailClient>());
        return builder;
    }

    public static WebApplication MapMail(this WebApplication app) => app.MapMailContent();
}
