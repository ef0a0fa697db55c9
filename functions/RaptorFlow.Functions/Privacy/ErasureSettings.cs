using System.ComponentModel.DataAnnotations;
using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Privacy;

/// <summary><c>Erasure:InlineOrgLimit</c>: how large an erasure still runs inside its request.</summary>
public sealed class ErasureSettings : ISettingsSection
{
    public static string SectionName => "Erasure";

    /// <summary>
    /// An erasure whose user's records are in at most this many orgs runs inside <c>DELETE /me</c>;
    /// a larger one runs as a background job (each org's rows are read in full to find the user's).
    /// </summary>
    [Range(0, 10_000)]
    public int InlineOrgLimit { get; set; } = 5;
}
