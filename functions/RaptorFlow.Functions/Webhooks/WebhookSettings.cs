using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Webhooks;

public sealed class WebhookSettings : ISettingsSection
{
    public static string SectionName => "Webhooks";

    /// <summary>
    /// Lets endpoints use plain http on loopback and private networks, and deliveries reach them.
    /// For local work and tests only (scripts/run.sh sets it); never set in Azure.
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Messages per second to one endpoint, for endpoints that set none.</summary>
    [Range(1, WebhookEndpointsApi.MaxRateLimitPerSecond)]
    public int DefaultRateLimitPerSecond { get; set; } = 50;

    /// <summary>An endpoint that has failed every attempt for this long is disabled.</summary>
    [Range(typeof(TimeSpan), "01:00:00", "30.00:00:00")]
    public TimeSpan DisableAfter { get; set; } = TimeSpan.FromDays(5);

    /// <summary>The whole attempt: connect, send, and read the response head.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>
/// The queues of delivery attempts and of recoveries. Configurable (<c>Webhooks:DeliveryQueue</c>,
/// <c>Webhooks:RecoveryQueue</c>) so each test app can use its own; in Azure they are always the defaults.
/// </summary>
public sealed record WebhookQueues(string Deliveries, string Recoveries)
{
    public const string DefaultDeliveries = "webhook-deliveries";
    public const string DefaultRecoveries = "webhook-recoveries";
}

/// <summary>Private networks are reachable only off Azure: in Azure they would open the SSRF guard.</summary>
public sealed class WebhookSettingsValidation(IConfiguration configuration) : IValidateOptions<WebhookSettings>
{
    public ValidateOptionsResult Validate(string? name, WebhookSettings options) =>
        options.AllowPrivateNetworks && !string.IsNullOrWhiteSpace(configuration[AccessRegistration.AzureWebsiteSetting])
            ? ValidateOptionsResult.Fail($"Webhooks:AllowPrivateNetworks is true while running in Azure ({AccessRegistration.AzureWebsiteSetting} is set); it is for local work only.")
            : ValidateOptionsResult.Success;
}
