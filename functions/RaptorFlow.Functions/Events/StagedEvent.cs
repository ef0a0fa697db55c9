using Azure.Data.Tables;

namespace RaptorFlow.Functions.Events;

/// <summary>
/// An event staged for a change: its pending index entry is written; <see cref="Action"/> (the
/// outbox row) goes into the change's own entity-group transaction; after that commits,
/// <see cref="EventOutbox.PublishAsync"/>.
/// </summary>
public sealed record StagedEvent(string Id, string Type, string OrgId, DateTimeOffset CreatedAt, TableTransactionAction Action);
