using CsCheck;
using RaptorFlow.Functions.Mail;

namespace RaptorFlow.Tests.Mail;

public sealed class MailTemplateTests
{
    private static readonly string[] Placeholders =
        ["org", "inviter", "email", "role", "expires", "number", "period", "total", "due", "paid", "amount", "invoice", "key", "keyId", "host", "endpointId", "reason"];

    [Fact]
    public void Every_kind_has_words_and_is_either_transactional_or_a_notification()
    {
        Assert.Equal(MailKinds.All.Order(), MailText.English.Keys.Order());
        Assert.Equal(
            [MailKinds.CreditNoteIssued, MailKinds.Invitation, MailKinds.InvoiceIssued, MailKinds.InvoicePaid, MailKinds.PaymentFailed],
            MailKinds.All.Where(MailKinds.IsTransactional).Order());
    }

    [Fact]
    public void Any_value_is_escaped_in_the_html_part_kept_as_is_in_the_text_part_and_never_breaks_the_subject_line()
    {
        var hostile = Gen.OneOf(
            Gen.Const("<script>alert(1)</script>"), Gen.Const("\"><img src=x onerror=alert(1)>"), Gen.Const("a & b ' \" <"),
            Gen.Const("Ünïcødé 名前 🚀"), Gen.String);
        Gen.Select(Gen.Int[0, MailKinds.All.Count - 1].Select(i => MailKinds.All[i]), hostile).Sample((kind, value) =>
        {
            var values = Placeholders.ToDictionary(p => p, _ => value);
            var rendered = MailTemplate.Render(kind, values, "https://console.test/#/accept?token=inv_a%2Bb");
            Assert.DoesNotContain("<script", rendered.Html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("<img", rendered.Html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain('\n', rendered.Subject);
            Assert.DoesNotContain('\r', rendered.Subject);
            Assert.Contains("https://console.test/#/accept?token=inv_a%2Bb", rendered.Text, StringComparison.Ordinal);
            Assert.Contains("href=\"https://console.test/#/accept?token=inv_a%2Bb\"", rendered.Html, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void Html_part_loads_nothing_remote_and_tracks_nothing()
    {
        foreach (var kind in MailKinds.All)
        {
            var rendered = MailTemplate.Render(kind, Placeholders.ToDictionary(p => p, p => p), "https://console.test/x");
            Assert.DoesNotContain("<img", rendered.Html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("src=", rendered.Html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("url(", rendered.Html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("<link", rendered.Html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("{", rendered.Text, StringComparison.Ordinal);
        }
    }
}
