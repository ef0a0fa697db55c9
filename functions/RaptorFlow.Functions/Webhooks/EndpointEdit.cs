namespace RaptorFlow.Functions.Webhooks;

public enum EndpointEditOutcome
{
    Saved,

    /// <summary>The change left every field as it was: nothing was written.</summary>
    Unchanged,
    NotFound,
    Stale,
    Rejected,
}

/// <summary>What became of a change to an endpoint: the saved row, or why there is none.</summary>
public sealed record EndpointEdit<TRejection>(EndpointEditOutcome Outcome, WebhookEndpointRow? Row = null, TRejection? Rejection = null)
    where TRejection : class;
