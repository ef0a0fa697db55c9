namespace RaptorFlow.Functions.Webhooks;

/// <summary>The data of a <c>ping</c> event: the endpoint <c>POST …/test</c> sent it to.</summary>
public sealed record WebhookPing(string EndpointId);
