using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Problems;

namespace RaptorFlow.Functions.Invoices;

public sealed record InvoiceLineResponse(
    InvoiceLineKind Kind,
    string Description,
    long Quantity,
    long UnitPriceMinor,
    long AmountMinor,
    string? Meter,
    long? Used,
    long? Included,
    long? UnitSize)
{
    public string? PlanId { get; init; }
    public int? Days { get; init; }
    public int? DaysInPeriod { get; init; }
    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }
    public long? BilledBefore { get; init; }
}

public sealed record InvoiceResponse(
    string Id,
    string OrgId,
    string Number,
    InvoiceStatus Status,
    DateTimeOffset PeriodStart,
    DateTimeOffset PeriodEnd,
    DateTimeOffset IssuedAt,
    string FinancialYear,
    string PlanId,
    string Currency,
    IReadOnlyList<InvoiceLineResponse> Lines,
    long SubtotalMinor,
    long TaxMinor,
    long TotalMinor,
    long AmountPaidMinor,
    long AmountDueMinor,
    string? PaymentUrl,
    DateTimeOffset? PaidAt,
    DateTimeOffset? VoidedAt,
    string? VoidReason);

public sealed record VoidInvoiceRequest(string? Reason);

public static class InvoicesApi
{
    public const int MaxReasonLength = 500;

    public static IEndpointRouteBuilder MapInvoiceRoutes(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/orgs/{orgId}/invoices").WithTags("Invoices");

        api.MapGet("/", ListAsync).RequireCapability(Capability.BillingRead)
            .WithName("ListInvoices").WithSummary("The org's invoices, newest first, paginated.");
        api.MapGet("/{invoiceId}", GetAsync).RequireCapability(Capability.BillingRead)
            .WithName("GetInvoice").WithSummary("One invoice: status, lines, totals in minor units, payment URL.");
        api.MapGet("/{invoiceId}.html", GetHtmlAsync).RequireCapability(Capability.BillingRead)
            .WithName("GetInvoiceHtml").WithSummary("A printable HTML rendering of one invoice.")
            .Produces(StatusCodes.Status200OK, contentType: "text/html")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{invoiceId}/void", VoidAsync).RequireCapability(Capability.BillingManage).WithIdempotency()
            .WithName("VoidInvoice").WithSummary("Voids an unpaid invoice and reverses its ledger posting; a paid invoice cannot be voided.");

        return routes;
    }

    public static async Task<Ok<CursorPage<InvoiceResponse>>> ListAsync(
        string orgId, PageRequest page, InvoiceBook book, CancellationToken cancellationToken)
    {
        var (rows, next) = await book.ListAsync(orgId, page, cancellationToken);
        return TypedResults.Ok(new CursorPage<InvoiceResponse>(rows.Select(ToResponse).ToList(), next));
    }

    public static async Task<Results<Ok<InvoiceResponse>, ProblemHttpResult>> GetAsync(
        string orgId, string invoiceId, HttpContext context, InvoiceBook book, CancellationToken cancellationToken)
    {
        var row = await book.FindAsync(orgId, invoiceId, cancellationToken);
        if (row is null || row.IsDraft)
        {
            return InvoiceNotFound();
        }

        context.SetETag(row.ETag);
        return TypedResults.Ok(ToResponse(row));
    }

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> GetHtmlAsync(
        string orgId, string invoiceId, HttpContext context, InvoiceBook book, OrgDirectory directory,
        Microsoft.Extensions.Options.IOptions<InvoiceSettings> settings, CancellationToken cancellationToken)
    {
        var row = await book.FindAsync(orgId, invoiceId, cancellationToken);
        if (row is null || row.IsDraft)
        {
            return InvoiceNotFound();
        }

        var org = await directory.FindAsync(orgId, cancellationToken);
        context.Response.Headers.ContentSecurityPolicy = InvoiceHtml.ContentSecurityPolicy;
        return TypedResults.Content(InvoiceHtml.Render(row, org?.Name ?? orgId, settings.Value), "text/html; charset=utf-8");
    }

    public static async Task<Results<Ok<InvoiceResponse>, ProblemHttpResult>> VoidAsync(
        string orgId, string invoiceId, [FromBody] VoidInvoiceRequest? request, HttpContext context, InvoiceIssuer issuer, CancellationToken cancellationToken)
    {
        var reason = request?.Reason?.Trim();
        if (reason is { Length: > MaxReasonLength } || (reason is not null && reason.Any(char.IsControl)))
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["reason"] = [$"At most {MaxReasonLength} characters, no control characters."] });
        }

        try
        {
            var row = await issuer.VoidAsync(orgId, invoiceId, AuditActor.From(context.GetCaller()), reason is { Length: > 0 } ? reason : null,
                context.Connection.RemoteIpAddress?.ToString(), context.TraceIdentifier, CancellationToken.None);
            return row is null ? InvoiceNotFound() : TypedResults.Ok(ToResponse(row));
        }
        catch (InvoiceNotVoidableException ex)
        {
            return ApiProblem.Conflict(ex.Code, ex.Message);
        }
    }

    internal static InvoiceResponse ToResponse(InvoiceRow row) => new(
        row.InvoiceId,
        row.OrgId,
        row.Number ?? "",
        row.ParsedStatus,
        row.PeriodStart,
        row.PeriodEnd,
        row.IssuedAt,
        row.FinancialYear ?? "",
        row.PlanId ?? "",
        row.Currency,
        InvoiceBook.LinesOf(row).Select(l => new InvoiceLineResponse(l.Kind, l.Description, l.Quantity, l.UnitPriceMinor, l.AmountMinor, l.Meter, l.Used, l.Included, l.UnitSize)
        {
            PlanId = l.PlanId,
            Days = l.Days,
            DaysInPeriod = l.DaysInPeriod,
            From = l.From,
            To = l.To,
            BilledBefore = l.BilledBefore,
        }).ToList(),
        row.SubtotalMinor,
        row.TaxMinor,
        row.TotalMinor,
        row.AmountPaidMinor,
        row.AmountDueMinor,
        row.ParsedStatus == InvoiceStatus.Issued ? row.PaymentUrl : null,
        row.PaidAt,
        row.VoidedAt,
        row.VoidReason);

    private static ProblemHttpResult InvoiceNotFound() =>
        ApiProblem.NotFound("invoice.not_found", "This org has no such invoice.");
}
