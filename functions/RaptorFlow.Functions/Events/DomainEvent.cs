using System.Text.Json;

namespace RaptorFlow.Functions.Events;

/// <summary>
/// Something that happened to an org, as its webhooks, event feed and mail see it. <see cref="Data"/>
/// is the resource as the API returns it, never with secrets.
/// </summary>
public sealed record DomainEvent(string Id, string Type, DateTimeOffset CreatedAt, string OrgId, JsonElement Data);
