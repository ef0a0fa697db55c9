using System.ComponentModel.DataAnnotations;
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
