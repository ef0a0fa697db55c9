namespace RaptorFlow.Functions.Platform.Settings;

/// <summary>An options class that names its own configuration section.</summary>
public interface ISettingsSection
{
    static abstract string SectionName { get; }
}
