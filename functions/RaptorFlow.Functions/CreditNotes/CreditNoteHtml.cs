using RaptorFlow.Functions.Invoices;

namespace RaptorFlow.Functions.CreditNotes;

/// <summary>A printable credit note, framed and encoded as invoices are (<see cref="InvoiceHtml"/>), under the same CSP.</summary>
public static class CreditNoteHtml
{
    public static string Render(CreditNoteRow row, string orgName, InvoiceSettings seller)
    {
        var status = row.Cancelled ? "cancelled" : "issued";
        var html = InvoiceHtml.Begin("Credit note", "Credit note", row.Number ?? "", row.IssuedAt, status, seller);
        html.Append("<p>Issued to <strong>").Append(InvoiceHtml.Encode(orgName)).Append("</strong> (").Append(InvoiceHtml.Encode(row.OrgId)).Append(")<br>")
            .Append("Against tax invoice ").Append(InvoiceHtml.Encode(row.InvoiceNumber ?? row.InvoiceId))
            .Append(", refund ").Append(InvoiceHtml.Encode(row.RefundId)).Append(" of payment ").Append(InvoiceHtml.Encode(row.PaymentId)).Append("</p>");
        html.Append("<table><tbody>")
            .Append(InvoiceHtml.TotalRow("Value credited (net of GST)", row.NetMinor, row.Currency))
            .Append(InvoiceHtml.TotalRow($"GST reversed ({InvoiceCalculation.GstPercent}%)", row.TaxMinor, row.Currency))
            .Append(InvoiceHtml.TotalRow("Total credited", row.TotalMinor, row.Currency))
            .Append("</tbody></table>");
        if (row.Cancelled)
        {
            html.Append("<p><strong>This credit note is cancelled:</strong> its refund failed and returned no money.</p>");
        }

        html.Append("<p class=\"muted\">Amounts in ").Append(InvoiceHtml.Encode(row.Currency))
            .Append(". GST reversed in proportion to the invoice's, rounded half-up to the paisa.</p></body></html>");
        return html.ToString();
    }
}
