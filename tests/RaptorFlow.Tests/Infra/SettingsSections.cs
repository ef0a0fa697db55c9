using System.Collections;
using System.Reflection;
using RaptorFlow.Functions;
using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Tests.Infra;

/// <summary>The settings the app binds through <see cref="ISettingsSection"/>, as host-style keys (<c>Section__Property</c>).</summary>
public static class SettingsSections
{
    public static IEnumerable<Type> Types() => typeof(Program).Assembly.GetTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && t.GetInterfaces().Contains(typeof(ISettingsSection)));

    /// <summary>Every bound key; a collection as its first element (<c>…__0</c>).</summary>
    public static IEnumerable<string> Keys() => Types().SelectMany(t => Keys(SectionName(t), t, instance: null, depth: 0).Select(k => k.Key));

    /// <summary>Keys whose property has a non-empty default in code, so leaving them unset is fine.</summary>
    public static IEnumerable<string> KeysWithCodeDefaults() => Types()
        .Where(t => t.GetConstructor(Type.EmptyTypes) is not null)
        .SelectMany(t => Keys(SectionName(t), t, Activator.CreateInstance(t), depth: 0))
        .Where(k => k.HasDefault)
        .Select(k => k.Key);

    private static string SectionName(Type type) =>
        (string)type.GetProperty(nameof(ISettingsSection.SectionName), BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;

    private static IEnumerable<(string Key, bool HasDefault)> Keys(string prefix, Type type, object? instance, int depth)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0))
        {
            var key = $"{prefix.Replace(":", "__", StringComparison.Ordinal)}__{property.Name}";
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            var value = instance is null ? null : property.GetValue(instance);
            if (IsCollection(propertyType))
            {
                yield return (key + "__0", value is IEnumerable items && items.Cast<object>().Any());
            }
            else if (propertyType.IsClass && propertyType != typeof(string) && propertyType != typeof(Uri) && depth < 3)
            {
                foreach (var nested in Keys(key, propertyType, value, depth + 1))
                {
                    yield return nested;
                }
            }
            else if (property.CanWrite)
            {
                yield return (key, value is not null && value is not "");
            }
        }
    }

    private static bool IsCollection(Type type) => type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type);
}
