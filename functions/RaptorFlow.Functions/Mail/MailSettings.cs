using System.ComponentModel.DataAnnotations;
using RaptorFlow.Functions.Platform.Http;
using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Mail;

/// <summary>Which provider <c>SendEmail</c> hands mail to.</summary>
public enum MailProvider
{
    /// <summary>Nothing is sent: each message is recorded as skipped and logged. Refused in Azure.</summary>
    None,
    Smtp,
    AzureCommunicationServices,
}

/// <summary>How mail leaves the app (section <c>Mail</c>); the provider's own settings are in <c>Mail:Smtp</c> and <c>Mail:Acs</c>.</summary>
public sealed class MailSettings : ISettingsSection
{
    public static string SectionName => "Mail";

    public MailProvider Provider { get; set; } = MailProvider.None;

    /// <summary>The From address; with Azure Communication Services, an address of a domain linked to the resource.</summary>
    public string FromAddress { get; set; } = "";

    [Required]
    public string FromName { get; set; } = "RaptorFlow";

    /// <summary>Messages one org may send per UTC day, transactional ones included; the rest of the day's mail is not sent.</summary>
    [Range(1, 1_000_000)]
    public int DailyCapPerOrg { get; set; } = 500;
}

/// <summary>SMTP relay (section <c>Mail:Smtp</c>); the password is the secret <c>mail-smtp-password</c> (locally <c>Mail:Smtp:Password</c>).</summary>
public sealed class SmtpSettings : ISettingsSection
{
    public static string SectionName => "Mail:Smtp";

    [Required]
    public string Host { get; set; } = "localhost";

    [Range(1, 65535)]
    public int Port { get; set; } = 587;

    /// <summary><c>None</c>, <c>Auto</c>, <c>SslOnConnect</c>, <c>StartTls</c> or <c>StartTlsWhenAvailable</c> (MailKit's names).</summary>
    public SmtpSecurity Security { get; set; } = SmtpSecurity.StartTls;

    /// <summary>Empty: no authentication.</summary>
    public string? UserName { get; set; }

    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>MailKit's TLS choices, named here so configuration does not depend on MailKit's types.</summary>
public enum SmtpSecurity
{
    None,
    Auto,
    SslOnConnect,
    StartTls,
    StartTlsWhenAvailable,
}

/// <summary>Azure Communication Services Email (section <c>Mail:Acs</c>), called with the app's managed identity.</summary>
public sealed class AcsEmailSettings : ISettingsSection, IRestCallSettings
{
    public static string SectionName => "Mail:Acs";

    /// <summary>The Communication Services resource, e.g. <c>https://acs-x.communication.azure.com</c>.</summary>
    public Uri? Endpoint { get; set; }

    [Range(typeof(TimeSpan), "00:00:01", "00:02:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(45);

    [Range(0, 10)]
    public int MaxRetries { get; set; } = 4;

    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Wait between status polls when ACS sends no <c>Retry-After</c>.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one attempt polls a send operation before it gives up and the message is retried.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan MaxPollDuration { get; set; } = TimeSpan.FromMinutes(2);
}
