using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;

namespace RaptorFlow.Functions.Invoices;

/// <summary>
/// A self-contained printable invoice. Every value from storage is HTML-encoded; the page loads
/// nothing and runs no script, and its Content-Security-Policy allows inline style only.
/// </summary>
public static class InvoiceHtml
{
    public const string ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private const string Style = """
        body{font-family:system-ui,sans-serif;color:#111;max-width:52rem;margin:2rem auto;padding:0 1rem}
        h1{font-size:1.4rem;margin:0}.muted{color:#555}.status{text-transform:uppercase;font-weight:600}
        table{width:100%;border-collapse:collapse;margin-top:1.5rem}th,td{padding:.4rem;border-bottom:1px solid #ddd;text-align:left}
        td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}tfoot td{font-weight:600;border:0}
        header{display:flex;justify-content:space-between;gap:2rem}
        @media print{body{margin:0}a{color:inherit;text-decoration:none}}
        """;

    // Encodes markup characters but keeps non-Latin names (Devanagari, Tamil, …) readable in the source.
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    public static string Render(InvoiceRow row, string orgName, InvoiceSettings seller)
    {
        var e = Encoder;
        var html = Begin("Invoice", "Tax invoice", row.Number ?? "", row.IssuedAt, row.ParsedStatus.ToWire(), seller);

        html.Append("<p>Billed to <strong>").Append(e.Encode(orgName)).Append("</strong> (").Append(e.Encode(row.OrgId)).Append(")<br>")
            .Append("Period ").Append(row.PeriodStart.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))
            .Append(" to ").Append(row.PeriodEnd.UtcDateTime.AddDays(-1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))
            .Append(" (UTC), plan ").Append(e.Encode(row.PlanName ?? row.PlanId ?? "")).Append("</p>");

        html.Append("<table><thead><tr><th>Description</th><th class=\"n\">Quantity</th><th class=\"n\">Unit price</th><th class=\"n\">Amount</th></tr></thead><tbody>");
        var lines = InvoiceBook.LinesOf(row);
        foreach (var line in lines.Where(l => l.Kind != InvoiceLineKind.CreditApplied))
        {
            html.Append("<tr><td>").Append(e.Encode(line.Description)).Append("</td><td class=\"n\">")
                .Append(line.Kind == InvoiceLineKind.Gst ? "" : line.Quantity.ToString("N0", CultureInfo.InvariantCulture))
                .Append("</td><td class=\"n\">").Append(line.Kind == InvoiceLineKind.Gst ? "" : Money(line.UnitPriceMinor, row.Currency, e))
                .Append("</td><td class=\"n\">").Append(Money(line.AmountMinor, row.Currency, e)).Append("</td></tr>");
        }

        html.Append("</tbody><tfoot>")
            .Append(TotalRow("Subtotal", row.SubtotalMinor, row.Currency, e))
            .Append(TotalRow($"GST ({InvoiceCalculation.GstPercent}%)", row.TaxMinor, row.Currency, e))
            .Append(TotalRow("Total", row.TotalMinor, row.Currency, e));
        foreach (var credit in lines.Where(l => l.Kind == InvoiceLineKind.CreditApplied))
        {
            // A payment from prepaid credit, not a discount: shown after the total, which it does not change.
            html.Append(TotalRow(credit.Description, credit.AmountMinor, row.Currency, e));
        }

        html.Append(TotalRow("Paid", row.AmountPaidMinor, row.Currency, e))
            .Append(TotalRow("Amount due", row.AmountDueMinor, row.Currency, e))
            .Append("</tfoot></table>");

        if (row.ParsedStatus == InvoiceStatus.Issued && row.PaymentUrl is { } url && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps)
        {
            html.Append("<p>Pay online: <a href=\"").Append(e.Encode(uri.AbsoluteUri)).Append("\">").Append(e.Encode(uri.AbsoluteUri)).Append("</a></p>");
        }

        if (row.ParsedStatus == InvoiceStatus.Void)
        {
            html.Append("<p><strong>This invoice is void.</strong> ").Append(e.Encode(row.VoidReason ?? "")).Append("</p>");
        }

        html.Append("<p class=\"muted\">Amounts in ").Append(e.Encode(row.Currency))
            .Append(". GST is 18% of the subtotal, rounded half-up to the paisa.</p></body></html>");
        return html.ToString();
    }

    /// <summary>
    /// Starts a printable document (an invoice, a credit note): the page head and the header with the
    /// seller, the document's title, number, date (IST) and status. Every value is encoded.
    /// </summary>
    public static StringBuilder Begin(string title, string heading, string number, DateTimeOffset issuedAt, string status, InvoiceSettings seller)
    {
        var e = Encoder;
        var html = new StringBuilder(4096);
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(e.Encode(title)).Append(' ')
            .Append(e.Encode(number)).Append("</title><style>").Append(Style).Append("</style></head><body>");

        html.Append("<header><div><h1>").Append(e.Encode(seller.SellerName)).Append("</h1>");
        if (seller.SellerAddress is { Length: > 0 } address)
        {
            html.Append("<div class=\"muted\">").Append(e.Encode(address)).Append("</div>");
        }

        if (seller.SellerGstin is { Length: > 0 } gstin)
        {
            html.Append("<div class=\"muted\">GSTIN ").Append(e.Encode(gstin)).Append("</div>");
        }

        html.Append("</div><div><h1>").Append(e.Encode(heading)).Append("</h1><div>No. ").Append(e.Encode(number)).Append("</div>")
            .Append("<div>Issued ").Append(Date(issuedAt)).Append(" (IST)</div>")
            .Append("<div class=\"status\">").Append(e.Encode(status)).Append("</div></div></header>");
        return html;
    }

    /// <summary>Values from storage, encoded for the page.</summary>
    public static string Encode(string value) => Encoder.Encode(value);

    public static string TotalRow(string label, long minor, string currency) => TotalRow(label, minor, currency, Encoder);

    private static string TotalRow(string label, long minor, string currency, HtmlEncoder e) =>
        $"<tr><td colspan=\"3\" class=\"n\">{e.Encode(label)}</td><td class=\"n\">{Money(minor, currency, e)}</td></tr>";

    /// <summary>Minor units as a decimal amount, by integer arithmetic (two decimals: paise).</summary>
    public static string Money(long minor, string currency) => Money(minor, currency, Encoder);

    public static string Money(long minor, string currency, HtmlEncoder e) =>
        e.Encode(string.Create(CultureInfo.InvariantCulture, $"{currency} {minor / 100:N0}.{Math.Abs(minor % 100):D2}"));

    private static string Date(DateTimeOffset at) => at.ToOffset(FinancialYear.Ist).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
}
