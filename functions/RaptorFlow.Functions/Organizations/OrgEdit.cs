namespace RaptorFlow.Functions.Organizations;

/// <summary>
/// What a PATCH of an org changes; null leaves a field as it is. <see cref="BillingEmail"/> <c>""</c> clears it.
/// </summary>
public sealed record OrgEdit(string? Name, string? Slug, string? BillingEmail = null, bool? EmailNotifications = null);
