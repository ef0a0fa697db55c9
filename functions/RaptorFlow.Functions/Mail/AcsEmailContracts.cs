namespace RaptorFlow.Functions.Mail;

// The request and result bodies of ACS Email's REST API, version 2023-03-31 (emails:send and the operation status).

public sealed record AcsEmailMessage(
    string SenderAddress,
    AcsEmailContent Content,
    AcsEmailRecipients Recipients,
    IReadOnlyDictionary<string, string>? Headers,
    bool UserEngagementTrackingDisabled);

public sealed record AcsEmailContent(string Subject, string PlainText, string Html);

public sealed record AcsEmailRecipients(IReadOnlyList<AcsEmailAddress> To);

public sealed record AcsEmailAddress(string Address, string? DisplayName);

/// <summary>An operation's status: <c>NotStarted</c>, <c>Running</c>, <c>Succeeded</c>, <c>Failed</c> or <c>Canceled</c>.</summary>
public sealed record AcsEmailSendResult(string Id, string Status, AcsError? Error);

public sealed record AcsError(string? Code, string? Message);

public sealed record AcsErrorResponse(AcsError? Error);
