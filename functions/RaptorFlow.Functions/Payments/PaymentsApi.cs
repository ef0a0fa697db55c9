using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Plans;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Problems;
using RaptorFlow.Functions.Razorpay;

namespace RaptorFlow.Functions.Payments;

/// <summary>Paying with Razorpay Checkout: orders, the browser's verification, the org's payments and refunds.</summary>
public static partial class PaymentsApi
{
    public const int MaxReasonLength = 200;

    public static IEndpointRouteBuilder MapPaymentRoutes(this IEndpointRouteBuilder routes)
    {
        var org = routes.MapGroup("/api/v1/orgs/{orgId}").WithTags("Payments");

        org.MapPost("/invoices/{invoiceId}/checkout", InvoiceCheckoutAsync).RequireCapability(Capability.BillingManage).WithIdempotency()
            .WithName("CreateInvoiceCheckout").WithSummary("The Razorpay order (created or reused) and Checkout options that pay what is due on an issued invoice.")
            .Produces<CheckoutResponse>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        org.MapPost("/credits/checkout", CreditCheckoutAsync).RequireCapability(Capability.BillingManage).WithIdempotency()
            .WithName("CreateCreditCheckout").WithSummary("A Razorpay order and Checkout options for a prepaid-credit top-up.")
            .Produces<CheckoutResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        org.MapPost("/payments/verify", VerifyAsync).RequireCapability(Capability.BillingManage)
            .WithName("VerifyPayment").WithSummary("Checks Checkout's payment signature and records that the browser saw success; only webhooks move money.")
            .Produces<PaymentResponse>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        org.MapGet("/payments", ListAsync).RequireCapability(Capability.BillingRead)
            .WithName("ListPayments").WithSummary("The org's Razorpay payments, by payment id, paginated.")
            .Produces<CursorPage<PaymentResponse>>();
        org.MapGet("/payments/{paymentId}", GetAsync).RequireCapability(Capability.BillingRead)
            .WithName("GetPayment").WithSummary("One payment: status, amounts, fee, what it paid, its refunds and its ledger transactions.")
            .Produces<PaymentResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        org.MapPost("/payments/{paymentId}/refunds", RefundAsync).RequireCapability(Capability.PaymentsRefund).WithIdempotency()
            .WithName("RefundPayment").WithSummary("Refunds a captured payment, all that is refundable unless an amount is given; the ledger posts when Razorpay processes it.")
            .Produces<PaymentRefundResponse>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        return routes;
    }

    public static async Task<Results<Ok<CheckoutResponse>, ProblemHttpResult>> InvoiceCheckoutAsync(
        string orgId, string invoiceId, HttpContext context, CheckoutOrders checkout, IOptions<PaymentsSettings> settings)
    {
        if (!IsRazorpayId(invoiceId))
        {
            return PaymentProblems.InvoiceNotFound();
        }

        var outcome = await checkout.ForInvoiceAsync(orgId, invoiceId, context.GetCaller(), CancellationToken.None);
        return outcome.Value is { } answer ? TypedResults.Ok(answer) : Problem(context, outcome.Problem!, settings.Value);
    }

    public static async Task<Results<Ok<CheckoutResponse>, ProblemHttpResult>> CreditCheckoutAsync(
        string orgId, CreditCheckoutRequest request, HttpContext context, CheckoutOrders checkout, PlanCatalog catalog, IOptions<PaymentsSettings> settings)
    {
        var (min, max) = (settings.Value.MinTopUpMinor, settings.Value.MaxTopUpMinor);
        var errors = new Dictionary<string, string[]>();
        if (request.AmountMinor < min || request.AmountMinor > max)
        {
            errors["amountMinor"] = [$"A whole number of minor units from {min} to {max}."];
        }

        var currencies = catalog.All.Select(p => p.Currency).ToHashSet(StringComparer.Ordinal);
        if (request.Currency is null || !currencies.Contains(request.Currency))
        {
            errors["currency"] = [$"One of {string.Join(", ", currencies.Order(StringComparer.Ordinal))} (ISO 4217, upper case)."];
        }

        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }

        var outcome = await checkout.ForCreditAsync(orgId, request.AmountMinor, request.Currency!, context.GetCaller(), CancellationToken.None);
        return outcome.Value is { } answer ? TypedResults.Ok(answer) : Problem(context, outcome.Problem!, settings.Value);
    }

    public static async Task<Results<Ok<PaymentResponse>, ProblemHttpResult>> VerifyAsync(
        string orgId, VerifyPaymentRequest request, PaymentViews views, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (!IsRazorpayId(request.RazorpayPaymentId))
        {
            errors["razorpayPaymentId"] = ["Required: a Razorpay payment id."];
        }

        if ((request.RazorpayOrderId is null) == (request.RazorpaySubscriptionId is null)
            || !IsRazorpayId(request.RazorpayOrderId ?? request.RazorpaySubscriptionId))
        {
            errors["razorpayOrderId"] = ["Exactly one of razorpayOrderId and razorpaySubscriptionId: a Razorpay id."];
        }

        if (request.RazorpaySignature is not { Length: > 0 and <= 128 })
        {
            errors["razorpaySignature"] = ["Required: the signature Checkout returned."];
        }

        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }

        var outcome = await views.VerifyAsync(orgId, request, cancellationToken);
        return outcome.Value is { } payment ? TypedResults.Ok(payment) : outcome.Problem!;
    }

    public static async Task<Ok<CursorPage<PaymentResponse>>> ListAsync(string orgId, PageRequest page, PaymentBook book, CancellationToken cancellationToken)
    {
        var (rows, next) = await book.PageAsync(orgId, page, cancellationToken);
        return TypedResults.Ok(new CursorPage<PaymentResponse>([.. rows.Select(PaymentViews.Summary)], next));
    }

    public static async Task<Results<Ok<PaymentResponse>, ProblemHttpResult>> GetAsync(
        string orgId, string paymentId, PaymentViews views, CancellationToken cancellationToken) =>
        IsRazorpayId(paymentId) && await views.FindAsync(orgId, paymentId, cancellationToken) is { } payment
            ? TypedResults.Ok(payment)
            : PaymentProblems.PaymentNotFound();

    public static async Task<Results<Created<PaymentRefundResponse>, ProblemHttpResult>> RefundAsync(
        string orgId, string paymentId, CreateRefundRequestBody request, HttpContext context, PaymentRefunds refunds, AuditLog audit, IOptions<PaymentsSettings> settings)
    {
        var reason = request.Reason?.Trim();
        if (request.AmountMinor is <= 0 || reason is not { Length: > 0 and <= MaxReasonLength } || reason.Any(char.IsControl))
        {
            return ApiProblem.Validation(new Dictionary<string, string[]>
            {
                ["amountMinor"] = ["Optional: a positive whole number of minor units."],
                ["reason"] = [$"Required: 1 to {MaxReasonLength} characters, no control characters."],
            });
        }

        if (!IsRazorpayId(paymentId))
        {
            return PaymentProblems.PaymentNotFound();
        }

        var key = context.Request.Headers[IdempotencyMiddleware.KeyHeader].ToString() is { Length: > 0 } idempotencyKey
            ? RefundKeys.For(orgId, paymentId, context.GetCaller().Reference, idempotencyKey)
            : RefundKeys.New();
        var outcome = await refunds.RequestAsync(orgId, paymentId, request.AmountMinor, reason, key, context.GetCaller().Reference, CancellationToken.None);
        if (outcome.Reserved)
        {
            await audit.RecordAsync(context, orgId, new AuditEntry("payment.refund_requested", "payment", paymentId, new Dictionary<string, AuditChange>
            {
                ["refundId"] = new(null, key),
                ["amountMinor"] = new(null, outcome.Refund!.AmountMinor.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            }));
        }

        return outcome.Problem is { } problem
            ? Problem(context, problem, settings.Value)
            : TypedResults.Created($"/api/v1/orgs/{orgId}/payments/{paymentId}", outcome.Refund!);
    }

    /// <summary>An outage answer tells the client when to retry.</summary>
    private static ProblemHttpResult Problem(HttpContext context, ProblemHttpResult problem, PaymentsSettings settings)
    {
        if (problem.StatusCode == StatusCodes.Status503ServiceUnavailable)
        {
            context.Response.Headers.RetryAfter = settings.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return problem;
    }

    private static bool IsRazorpayId(string? id) => id is not null && PaymentOwnerKeys.IsUsable(id);
}
