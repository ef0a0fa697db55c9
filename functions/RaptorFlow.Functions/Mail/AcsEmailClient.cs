using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace RaptorFlow.Functions.Mail;

/// <summary>
/// Azure Communication Services Email over REST (no SDK is served here): <c>POST emails:send</c>
/// with an <c>Operation-Id</c> derived from the message id, so a retried send (after a timeout, a
/// crash, a redelivery) names the operation already under way instead of sending again, then
/// <c>GET emails/operations/{id}</c> until it ends, waiting as <c>Retry-After</c> says.
/// </summary>
public sealed partial class AcsEmailClient(HttpClient http, IOptions<MailSettings> sender, IOptions<AcsEmailSettings> acs, ILogger<AcsEmailClient> logger) : IMailProvider
{
    public const string ApiVersion = "2023-03-31";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        TypeInfoResolver = ApiJsonContext.WithReflectionFallback,
    };

    public MailProvider Name => MailProvider.AzureCommunicationServices;

    public async Task<string> SendAsync(OutgoingMail mail, CancellationToken cancellationToken)
    {
        var operationId = MailIdentity.OperationId(mail.MessageId).ToString();
        var settings = acs.Value;
        var body = new AcsEmailMessage(
            sender.Value.FromAddress,
            new AcsEmailContent(mail.Subject, mail.Text, mail.Html),
            new AcsEmailRecipients([.. mail.To.Select(r => new AcsEmailAddress(r.Address, r.Name))]),
            string.IsNullOrEmpty(mail.UnsubscribeUrl)
                ? null
                : new Dictionary<string, string>
                {
                    ["List-Unsubscribe"] = $"<{mail.UnsubscribeUrl}>",
                    ["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click",
                },
            UserEngagementTrackingDisabled: true);

        // "./": without it "emails:send" would read as an absolute URI of scheme "emails".
        using var request = new HttpRequestMessage(HttpMethod.Post, $"./emails:send?api-version={ApiVersion}")
        {
            Content = JsonContent.Create(body, options: Json),
        };
        request.Headers.Add("Operation-Id", operationId);
        request.Headers.Add("x-ms-client-request-id", Guid.NewGuid().ToString());

        AcsEmailSendResult status;
        TimeSpan? wait;
        using (var response = await http.SendAsync(request, cancellationToken))
        {
            if (response.StatusCode == HttpStatusCode.Conflict)
            {
                // The operation id is taken: an earlier attempt at this message started it. Follow that one.
                LogOperationExists(logger, mail.MessageId, operationId);
                status = new AcsEmailSendResult(operationId, "Running", null);
                wait = null;
            }
            else
            {
                await EnsureAcceptedAsync(response, HttpStatusCode.Accepted, cancellationToken);
                status = await ReadStatusAsync(response, cancellationToken);
                wait = RetryAfter(response);
            }
        }

        var deadline = DateTimeOffset.UtcNow + settings.MaxPollDuration;
        while (!IsTerminal(status.Status))
        {
            if (DateTimeOffset.UtcNow >= deadline)
            {
                throw new MailDeliveryException($"ACS operation {operationId} was still {status.Status} after {settings.MaxPollDuration}.");
            }

            // Scheduling, not business time: the system clock, as for every back-off here.
            await Task.Delay(wait ?? settings.PollInterval, TimeProvider.System, cancellationToken);

            // The URL is built from the configured endpoint, not taken from Operation-Location, so the
            // bearer token only ever goes to the resource the settings name.
            using var poll = await http.GetAsync($"emails/operations/{Uri.EscapeDataString(operationId)}?api-version={ApiVersion}", cancellationToken);
            await EnsureAcceptedAsync(poll, HttpStatusCode.OK, cancellationToken);
            status = await ReadStatusAsync(poll, cancellationToken);
            wait = RetryAfter(poll);
        }

        return status.Status switch
        {
            "Succeeded" => operationId,
            _ => throw new MailRejectedException($"ACS operation {operationId} ended {status.Status}: {status.Error?.Code ?? "no error code"}."),
        };
    }

    private static bool IsTerminal(string status) => status is "Succeeded" or "Failed" or "Canceled";

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.RetryAfter is { Delta: { } delta })
        {
            return delta;
        }

        return response.Headers.TryGetValues("retry-after", out var values)
            && int.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(seconds)
            : null;
    }

    private static async Task<AcsEmailSendResult> ReadStatusAsync(HttpResponseMessage response, CancellationToken cancellationToken) =>
        await response.Content.ReadFromJsonAsync<AcsEmailSendResult>(Json, cancellationToken)
        ?? throw new MailDeliveryException("ACS answered with an empty body.");

    private static async Task EnsureAcceptedAsync(HttpResponseMessage response, HttpStatusCode expected, CancellationToken cancellationToken)
    {
        if (response.StatusCode == expected)
        {
            return;
        }

        string? code = null;
        try
        {
            code = (await response.Content.ReadFromJsonAsync<AcsErrorResponse>(Json, cancellationToken))?.Error?.Code;
        }
        catch (JsonException)
        {
        }

        code ??= response.Headers.TryGetValues("x-ms-error-code", out var values) ? values.FirstOrDefault() : null;
        var status = (int)response.StatusCode;
        // A 400 is this message's own fault (a malformed address): sending it again cannot succeed.
        // Anything else (401/403 while a role assignment propagates, 429, 5xx past the retries) may pass later.
        throw status == 400
            ? new MailRejectedException($"ACS refused the message: {status} {code ?? "no error code"}.")
            : new MailDeliveryException($"ACS answered {status} {code ?? "no error code"}.");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Mail {MessageId}: ACS operation {OperationId} exists already; following it")]
    private static partial void LogOperationExists(ILogger logger, string messageId, string operationId);
}

/// <summary>Adds <c>Authorization: Bearer</c> with a token of the app's identity for ACS; tokens are reused until five minutes before they expire.</summary>
internal sealed class AcsBearerToken(MailCredential credential) : DelegatingHandler
{
    private static readonly string[] Scopes = ["https://communication.azure.com//.default"];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = await credential.TokenAsync(Scopes, cancellationToken);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await base.SendAsync(request, cancellationToken);
    }
}
