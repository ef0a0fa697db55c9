using System.ComponentModel.DataAnnotations;
using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Platform.OpenApi;

/// <summary>The <c>ApiDocs</c> section: the interactive API reference at <c>/api/docs</c>.</summary>
public sealed class ApiDocsSettings : ISettingsSection
{
    public static string SectionName => "ApiDocs";

    /// <summary>Unset: on locally, off in Azure (where <c>WEBSITE_SITE_NAME</c> is set).</summary>
    public bool? Enabled { get; set; }

    [Required, StringLength(120, MinimumLength = 1)]
    public string Title { get; set; } = "RaptorFlow API";

    public bool IsOn(IConfiguration configuration) =>
        Enabled ?? string.IsNullOrWhiteSpace(configuration[Access.AccessRegistration.AzureWebsiteSetting]);
}
