using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Microsoft.Extensions.Options;

namespace RaptorFlow.Functions.Webhooks;

/// <summary>
/// Sends one signed webhook over the <c>webhooks</c> client (SSRF-guarded connections, no
/// redirects, no cookies or credentials) and reads at most <see cref="ReadCapBytes"/> of the
/// response, keeping the first <see cref="KeptBytes"/>.
/// </summary>
public sealed class WebhookSender(IHttpClientFactory clients, TimeProvider time, IOptions<WebhookSettings> settings)
{
    public const string ClientName = "webhooks";
    public const int ReadCapBytes = 64 * 1024;
    public const int KeptBytes = 1024;
    public const string AbortHeader = "webhook-delivery";
    public const string AbortValue = "abort-message";

    public async Task<AttemptOutcome> SendAsync(Uri url, string messageId, IReadOnlyList<string> secrets, byte[] body, CancellationToken cancellationToken)
    {
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation("webhook-id", messageId);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("webhook-signature", WebhookSecrets.Signature(secrets, messageId, timestamp, body));
        request.Headers.UserAgent.ParseAdd("RaptorFlow-Webhooks/1.0");

        // Durations are measured, not business time: the system clock's stopwatch.
        // The timeout covers the whole attempt, body included; it is a deadline on real I/O, so the system clock.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(settings.Value.AttemptTimeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            var kept = await ReadKeptAsync(response.Content, deadline.Token);
            var abort = response.Headers.TryGetValues(AbortHeader, out var values)
                && values.Any(v => string.Equals(v.Trim(), AbortValue, StringComparison.OrdinalIgnoreCase));
            return new AttemptOutcome((int)response.StatusCode, Stopwatch.GetElapsedTime(started), kept, null, abort);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && KindOf(ex) is { } kind)
        {
            return new AttemptOutcome(null, Stopwatch.GetElapsedTime(started), null, kind, false);
        }
    }

    private static async Task<string?> ReadKeptAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[KeptBytes];
        var kept = 0;
        var read = 0;
        var scratch = new byte[8192];
        while (read < ReadCapBytes)
        {
            var n = await stream.ReadAsync(scratch.AsMemory(0, Math.Min(scratch.Length, ReadCapBytes - read)), cancellationToken);
            if (n == 0)
            {
                break;
            }

            var take = Math.Min(n, KeptBytes - kept);
            scratch.AsSpan(0, take).CopyTo(buffer.AsSpan(kept));
            kept += take;
            read += n;
        }

        return kept == 0 ? null : Encoding.UTF8.GetString(buffer, 0, kept);
    }

    private static string? KindOf(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case RefusedAddressException:
                    return AttemptErrorKind.Blocked;
                case TimeoutException:
                case OperationCanceledException:
                    return AttemptErrorKind.Timeout;
                case AuthenticationException:
                    return AttemptErrorKind.Tls;
                case SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain }:
                    return AttemptErrorKind.Dns;
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused }:
                    return AttemptErrorKind.Refused;
                case SocketException { SocketErrorCode: SocketError.TimedOut }:
                    return AttemptErrorKind.Timeout;
            }
        }

        return ex is HttpRequestException or IOException ? AttemptErrorKind.Connection : null;
    }
}
