namespace RaptorFlow.Functions.Events;

/// <summary>The queue dispatch runs on (<c>Events:DispatchQueue</c>, default <c>domain-events</c>).</summary>
public sealed record DomainEventsQueue(string Name);

/// <summary>
/// The table of pending event entries the sweeper and dispatcher read (<c>Events:OutboxTable</c>,
/// default <c>EventOutbox</c>). Its own per deployment, as its queue is: a sweeper enqueues every
/// entry it finds onto its own queue.
/// </summary>
public sealed record PendingEventsTable(string Name);

/// <summary>The message on the dispatch queue: only the event id; the event stays in its outbox row.</summary>
public sealed record DomainEventMessage(string EventId);
