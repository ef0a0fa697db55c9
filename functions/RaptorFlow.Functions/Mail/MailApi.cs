using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Problems;
using RaptorFlow.Functions.Platform.RateLimiting;

namespace RaptorFlow.Functions.Mail;

public static class MailApi
{
    public const string UnsubscribeRoute = "/api/v1/mail/unsubscribe";

    /// <summary>Outside <c>/orgs/{orgId}</c>: no member calls it, so the org's access rules do not apply; the token is the authority.</summary>
    public static string UnsubscribePath(string orgId) => $"{UnsubscribeRoute}?org={Uri.EscapeDataString(orgId)}";

    public static IEndpointRouteBuilder MapMailRoutes(this IEndpointRouteBuilder routes)
    {
        // Mail apps post here on their own (RFC 8058) with the form body "List-Unsubscribe=One-Click", which is not read.
        routes.MapPost(UnsubscribeRoute, UnsubscribeAsync).WithTags("Mail")
            .IsPublic("The link of a notification email's List-Unsubscribe header: its signed token, bound to the org, is the authority.")
            .LimitPerClientAddress("mail-unsubscribe", s => s.MailUnsubscribePerAddress)
            .WithName("UnsubscribeOrgNotifications")
            .WithSummary("One-click unsubscribe (RFC 8058): turns the org's notification email off. Idempotent; invitation and billing mail is still sent.");
        return routes;
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> UnsubscribeAsync(
        [FromQuery(Name = "org")] string? orgId, string? token, UnsubscribeLinks links, OrgBook book, AuditLog audit, HttpContext context)
    {
        if (string.IsNullOrEmpty(orgId) || !links.IsValid(orgId, token))
        {
            return ApiProblem.NotFound("mail.unsubscribe_invalid", "This unsubscribe link is not valid.");
        }

        switch (await book.TurnOffEmailNotificationsAsync(orgId))
        {
            case null:
                return OrganizationsApi.OrgNotFound();
            case true:
                await audit.RecordAsync(orgId, AuditActor.System("mail.unsubscribe"), new AuditEntry("org.updated", "org", orgId,
                    new Dictionary<string, AuditChange> { ["notifications.email"] = new("true", "false") }), requestId: context.TraceIdentifier);
                break;
        }

        return TypedResults.NoContent();
    }
}
