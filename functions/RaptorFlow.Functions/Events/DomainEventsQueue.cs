namespace RaptorFlow.Functions.Events;

/// <summary>The queue dispatch runs on (<c>Events:DispatchQueue</c>, default <c>domain-events</c>).</summary>
public sealed record DomainEventsQueue(string Name);

/// <summary>The message on the dispatch queue: only the event id; the event stays in its outbox row.</summary>
public sealed record DomainEventMessage(string EventId);
