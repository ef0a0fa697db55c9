namespace RaptorFlow.Functions.Webhooks;

/// <summary>One HTTP attempt as the delivery log shows it.</summary>
public sealed record DeliveryAttempt(
    int Round,
    int Attempt,
    DateTimeOffset At,
    int? StatusCode,
    long DurationMs,
    string? ResponseBody,
    string? ErrorKind);
