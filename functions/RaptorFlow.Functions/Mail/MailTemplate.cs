using System.Text;

namespace RaptorFlow.Functions.Mail;

/// <summary>A mail's subject and both parts, rendered.</summary>
public sealed record RenderedMail(string Subject, string Html, string Text);

/// <summary>
/// Renders a kind of mail from its strings table and a model (placeholder values and the action's
/// link): a plain-text part and an HTML part in which every value is escaped. The HTML has inline
/// styles only, no remote images and no tracking of any kind.
/// </summary>
public static class MailTemplate
{
    public static RenderedMail Render(string kind, IReadOnlyDictionary<string, string> values, string? actionUrl) =>
        Render(MailText.English[kind], MailKinds.IsTransactional(kind) ? MailText.TransactionalFooter : MailText.NotificationFooter, values, actionUrl);

    public static RenderedMail Render(MailStrings strings, string footerTemplate, IReadOnlyDictionary<string, string> values, string? actionUrl)
    {
        var subject = Fill(strings.Subject, values);
        var heading = Fill(strings.Heading, values);
        var lines = strings.Lines.Select(l => Fill(l, values)).ToList();
        var action = strings.Action is null ? null : Fill(strings.Action, values);
        var footer = Fill(footerTemplate, values);

        var text = new StringBuilder().Append(heading).Append("\n\n");
        foreach (var line in lines)
        {
            text.Append(line).Append("\n\n");
        }

        if (action is not null && actionUrl is not null)
        {
            text.Append(action).Append(": ").Append(actionUrl).Append("\n\n");
        }

        text.Append("-- \n").Append(footer).Append('\n');

        var html = new StringBuilder()
            .Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">")
            .Append("<title>").Append(Escape(subject)).Append("</title></head>\n")
            .Append("<body style=\"margin:0;padding:24px;background:#ffffff;color:#1a1a1a;font-family:-apple-system,'Segoe UI',Roboto,Arial,sans-serif;font-size:15px;line-height:1.5\">\n")
            .Append("<h1 style=\"font-size:20px;margin:0 0 16px\">").Append(Escape(heading)).Append("</h1>\n");
        foreach (var line in lines)
        {
            html.Append("<p style=\"margin:0 0 12px\">").Append(Escape(line)).Append("</p>\n");
        }

        if (action is not null && actionUrl is not null)
        {
            var href = Escape(actionUrl);
            html.Append("<p style=\"margin:20px 0\"><a href=\"").Append(href)
                .Append("\" style=\"display:inline-block;padding:10px 18px;background:#1f4fd1;color:#ffffff;text-decoration:none;border-radius:4px\">")
                .Append(Escape(action)).Append("</a></p>\n")
                .Append("<p style=\"margin:0 0 12px;font-size:13px;color:#555555\">").Append(Escape(MailText.LinkFallback))
                .Append("<br><a href=\"").Append(href).Append("\" style=\"color:#1f4fd1;word-break:break-all\">").Append(href).Append("</a></p>\n");
        }

        html.Append("<hr style=\"border:none;border-top:1px solid #dddddd;margin:24px 0 12px\">\n")
            .Append("<p style=\"margin:0;font-size:12px;color:#555555\">").Append(Escape(footer)).Append("</p>\n</body></html>\n");
        return new RenderedMail(OneLine(subject), html.ToString(), text.ToString());
    }

    /// <summary>Fills <c>{name}</c> placeholders; a value never spans lines (it may end up in a header).</summary>
    private static string Fill(string template, IReadOnlyDictionary<string, string> values)
    {
        var filled = new StringBuilder(template.Length + 64);
        var at = 0;
        while (at < template.Length)
        {
            var open = template.IndexOf('{', at);
            var close = open < 0 ? -1 : template.IndexOf('}', open);
            if (close < 0)
            {
                filled.Append(template, at, template.Length - at);
                break;
            }

            filled.Append(template, at, open - at);
            var name = template[(open + 1)..close];
            filled.Append(values.TryGetValue(name, out var value) ? OneLine(value) : "");
            at = close + 1;
        }

        return filled.ToString();
    }

    private static string OneLine(string value) =>
        value.Any(char.IsControl) ? new string([.. value.Select(c => char.IsControl(c) ? ' ' : c)]) : value;

    /// <summary>Escapes the five characters that matter in text and quoted attributes; every other character (any script) stays as written.</summary>
    private static string Escape(string value) => value
        .Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal)
        .Replace("\"", "&quot;", StringComparison.Ordinal)
        .Replace("'", "&#39;", StringComparison.Ordinal);
}
