using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace RaptorFlow.Functions.Hosting.Standalone;

/// <summary>
/// Compile-time JSON metadata for the timer status blob. Hosting keeps its own context: the app's
/// (<c>ApiJsonContext</c>, next to <c>Program.cs</c>) lists feature types, which hosting must not see.
/// The generation options are the app's, so <see cref="JsonSerializerContext.Options"/> agree.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    NumberHandling = JsonNumberHandling.Strict,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(TimerScheduleStatus))]
internal sealed partial class TimerStatusJson : JsonSerializerContext
{
    /// <summary>The generated metadata first, reflection after it for anything not declared here.</summary>
    public static IJsonTypeInfoResolver WithReflectionFallback =>
        field ??= JsonTypeInfoResolver.Combine(Default, new DefaultJsonTypeInfoResolver());
}
