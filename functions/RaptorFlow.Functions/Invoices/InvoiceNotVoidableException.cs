namespace RaptorFlow.Functions.Invoices;

/// <summary>Why an invoice cannot be voided.</summary>
public sealed class InvoiceNotVoidableException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
