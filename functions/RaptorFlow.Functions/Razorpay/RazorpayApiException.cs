using System.Net;

namespace RaptorFlow.Functions.Razorpay;

/// <summary>Razorpay's error body, <c>{"error": {...}}</c>, as an exception.</summary>
public sealed class RazorpayApiException(HttpStatusCode status, string code, string description, string? field, string? reason)
    : Exception($"Razorpay answered {(int)status} {code}: {description}")
{
    public HttpStatusCode Status { get; } = status;
    public string Code { get; } = code;
    public string Description { get; } = description;
    public string? Field { get; } = field;
    public string? Reason { get; } = reason;
}
