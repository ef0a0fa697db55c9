using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Platform.Secrets;

public sealed class KeyVaultSettings : ISettingsSection
{
    public static string SectionName => "KeyVault";

    /// <summary>The vault's URI; when empty, secrets come from configuration.</summary>
    public Uri? Uri { get; set; }

    /// <summary>The Key Vault key that wraps the Data Protection key ring; when empty, the ring is stored unwrapped (local work).</summary>
    public Uri? KeyRingKeyUri { get; set; }
}
