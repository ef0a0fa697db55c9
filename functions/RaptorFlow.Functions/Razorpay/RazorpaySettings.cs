using System.ComponentModel.DataAnnotations;
using RaptorFlow.Functions.Platform.Http;
using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Razorpay;

public sealed class RazorpaySettings : ISettingsSection, IRestCallSettings
{
    public static string SectionName => "Razorpay";

    [Required]
    public Uri BaseUrl { get; set; } = new("https://api.razorpay.com/v1/");

    /// <summary>Per-attempt timeout of a REST call.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:02:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Timeout of a REST call including its retries.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(45);

    [Range(0, 10)]
    public int MaxRetries { get; set; } = 4;

    /// <summary>First retry delay; later ones grow exponentially, with jitter.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long after a webhook-secret rotation a signature made with the previous secret is still accepted.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan WebhookSecretOverlap { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Inbox rows still unprocessed this long after they were enqueued are enqueued again by the sweeper.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan SweepAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The queue's maxDequeueCount (host.json): the failure at this count makes the event poison.</summary>
    [Range(1, 100)]
    public int MaxDequeueCount { get; set; } = 5;

    /// <summary>The queue events go through; read once at start-up (function metadata names it).</summary>
    [Required]
    public string EventsQueue { get; set; } = "razorpay-events";
}
