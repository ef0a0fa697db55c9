using System.ComponentModel.DataAnnotations;
using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Mail;

/// <summary>The public addresses links in mail point at (<c>Mail:Links</c>).</summary>
public sealed class MailLinkSettings : ISettingsSection
{
    public static string SectionName => "Mail:Links";

    /// <summary>The web console's URL (its <c>index.html</c>); invitation and billing links open its screens.</summary>
    [Required]
    [Url]
    public string ConsoleUrl { get; set; } = "http://127.0.0.1:5173/";

    /// <summary>The API's public base URL (before <c>/api</c>); one-click unsubscribe posts there.</summary>
    [Required]
    [Url]
    public string ApiUrl { get; set; } = "http://127.0.0.1:7071/";

    /// <summary>A console screen: <c>{ConsoleUrl}#/{route}</c>.</summary>
    public string Console(string route) => $"{ConsoleUrl.TrimEnd('/')}/#/{route}";

    /// <summary>An API route: <c>{ApiUrl}{path}</c>, <paramref name="path"/> starting with <c>/api/</c>.</summary>
    public string Api(string path) => ApiUrl.TrimEnd('/') + path;
}
