using System.ComponentModel.DataAnnotations;
using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Invoices;

public sealed class InvoiceSettings : ISettingsSection
{
    public static string SectionName => "Invoices";

    /// <summary>The series printed first in every number (<c>RF/2026-27/000123</c>); each series numbers its own years.</summary>
    [Required]
    [RegularExpression("^[A-Z]{2,10}$", ErrorMessage = "2-10 upper-case letters.")]
    public string NumberSeries { get; set; } = "RF";

    /// <summary>The series of GST credit notes (<c>RF/CN/2026-27/000001</c>), numbered apart from invoices.</summary>
    [Required]
    [RegularExpression("^[A-Z]{2,10}(/[A-Z]{2,10})?$", ErrorMessage = "2-10 upper-case letters, optionally '/' and 2-10 more.")]
    public string CreditNoteSeries { get; set; } = "RF/CN";

    /// <summary>How many orgs one GenerateInvoices run closes at once.</summary>
    [Range(1, 32)]
    public int Concurrency { get; set; } = 4;

    /// <summary>Printed at the top of the HTML invoice.</summary>
    [Required]
    [StringLength(200, MinimumLength = 1)]
    public string SellerName { get; set; } = "RaptorFlow";

    [StringLength(500)]
    public string? SellerAddress { get; set; }

    /// <summary>The seller's GSTIN, printed on the invoice when set.</summary>
    [RegularExpression("^[0-9]{2}[A-Z0-9]{13}$", ErrorMessage = "A GSTIN is 15 characters: a 2-digit state code and 13 letters or digits.")]
    public string? SellerGstin { get; set; }
}
