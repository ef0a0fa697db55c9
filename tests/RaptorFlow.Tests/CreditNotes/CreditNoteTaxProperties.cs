using CsCheck;
using RaptorFlow.Functions.CreditNotes;
using RaptorFlow.Functions.Invoices;

namespace RaptorFlow.Tests.CreditNotes;

public sealed class CreditNoteTaxProperties
{
    /// <summary>Any split of an invoice's total into notes, down to single paise: per-note rounding would drift; cumulative rounding cannot.</summary>
    [Fact]
    public void Notes_of_an_invoice_never_reverse_more_tax_or_net_than_it_had_and_all_of_it_once_fully_credited()
    {
        Gen.Select(Gen.Long[1, 2_000_000], Gen.Long[1, 1_000].Array[1, 40]).Sample((subtotal, parts) =>
        {
            var tax = InvoiceCalculation.Gst(subtotal);
            var total = subtotal + tax;
            long credited = 0, creditedTax = 0;
            foreach (var part in parts.Append(total))
            {
                var covered = Math.Min(part, total - credited);
                if (covered <= 0)
                {
                    break;
                }

                var noteTax = CreditNoteIssuer.TaxOfNote(credited, creditedTax, covered, tax, total);
                Assert.InRange(noteTax, 0, covered);
                credited += covered;
                creditedTax += noteTax;
                Assert.True(creditedTax <= tax && credited - creditedTax <= subtotal, $"credited {credited} with tax {creditedTax} of {total} with tax {tax}");
            }

            Assert.Equal(tax, creditedTax);
            Assert.Equal(subtotal, credited - creditedTax);
        }, iter: 2_000);
    }
}
