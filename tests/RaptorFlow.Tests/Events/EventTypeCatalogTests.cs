using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using RaptorFlow.Functions.Events;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Events;

/// <summary><c>GET /api/v1/webhook-event-types</c>: every event type, what it means, and the schema of its data.</summary>
[Collection(EventsCollection.Name)]
public sealed class EventTypeCatalogTests(EventsAppFixture fixture)
{
    private static IEnumerable<string> DeclaredTypes() =>
        typeof(EventTypes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!);

    [Fact]
    public void Every_event_type_has_a_catalogue_entry_and_no_entry_is_unknown()
    {
        var declared = DeclaredTypes().Order().ToList();
        Assert.Equal(declared, EventCatalog.All.Select(t => t.Type).Order());
        Assert.All(EventCatalog.All, t => Assert.False(string.IsNullOrWhiteSpace(t.Description)));
    }

    [Fact]
    public async Task The_catalogue_is_public_and_gives_each_types_data_schema()
    {
        using var response = await fixture.App.Client.GetAsync(new Uri(EventsApi.EventTypesPath, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var types = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data").EnumerateArray()
            .ToDictionary(t => t.GetProperty("type").GetString()!);

        Assert.Equal(DeclaredTypes().Order(), types.Keys.Order());
        var member = types[EventTypes.MemberAdded].GetProperty("dataSchema");
        Assert.Contains("userId", member.GetProperty("properties").EnumerateObject().Select(p => p.Name));
        Assert.Contains("owner", member.GetProperty("properties").GetProperty("role").ToString());

        // Secrets are never data: the key's event carries the key as listed, never the issued secret.
        var key = types[EventTypes.ApiKeyCreated].GetProperty("dataSchema").GetProperty("properties");
        Assert.DoesNotContain("key", key.EnumerateObject().Select(p => p.Name));
        Assert.Contains("prefix", key.EnumerateObject().Select(p => p.Name));
        Assert.DoesNotContain("token", types[EventTypes.InvitationCreated].GetProperty("dataSchema").GetProperty("properties").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task The_openapi_document_describes_the_catalogue_and_the_feed()
    {
        var document = await fixture.App.Client.GetFromJsonAsync<JsonElement>(new Uri("/api/openapi/v1.json", UriKind.Relative));

        var paths = document.GetProperty("paths");
        Assert.True(paths.TryGetProperty(EventsApi.EventTypesPath, out _));
        Assert.True(paths.TryGetProperty("/api/v1/orgs/{orgId}/events", out _));
        Assert.Contains(EventsApi.EventTypesPath, document.GetProperty("info").GetProperty("description").GetString(), StringComparison.Ordinal);
    }
}
