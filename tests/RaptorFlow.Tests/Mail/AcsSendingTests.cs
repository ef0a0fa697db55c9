using System.Text.Json;
using Azure.Core;
using RaptorFlow.Functions.Mail;
using RaptorFlow.Tests.Fixtures;
using WireMock.ResponseBuilders;
using WireMock.Server;
using Request = WireMock.RequestBuilders.Request;

namespace RaptorFlow.Tests.Mail;

/// <summary>Azure Communication Services Email's REST API stubbed on WireMock.Net; Entra ID is the substitute credential.</summary>
public sealed class AcsSendingTests : IDisposable
{
    private readonly WireMockServer _acs = WireMockServer.Start();
    private readonly EntraToken _credential = new();

    public void Dispose() => _acs.Dispose();

    private Task<TestApp> StartAppAsync() => TestApp.StartAsync(
        new Dictionary<string, string?>
        {
            ["Mail:Queue"] = $"mail-outbox-{Guid.NewGuid():N}",
            ["Mail:Provider"] = "AzureCommunicationServices",
            ["Mail:FromAddress"] = "DoNotReply@abc.azurecomm.net",
            ["Mail:Acs:Endpoint"] = _acs.Url,
            ["Mail:Acs:PollInterval"] = "00:00:00.010",
            ["Mail:Acs:RetryBaseDelay"] = "00:00:00.010",
        },
        customize: builder => builder.Services.AddSingleton(new MailCredential(_credential, TimeProvider.System)),
        hostDrivesTriggers: true);

    private void SendAccepts(string operationId) =>
        _acs.Given(Request.Create().WithPath("/emails:send").WithParam("api-version", AcsEmailClient.ApiVersion).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(202)
                .WithHeader("Operation-Location", $"{_acs.Url}/emails/operations/{operationId}?api-version={AcsEmailClient.ApiVersion}")
                .WithHeader("Retry-After", "0")
                .WithBody($$"""{"id":"{{operationId}}","status":"Running"}"""));

    [Fact]
    public async Task Mail_is_sent_with_the_documented_request_and_the_operation_is_polled_until_it_succeeds()
    {
        var mail = MailTestKit.Mail(kind: "key-expiring", transactional: false, to: "asha@example.test", unsubscribeUrl: "https://api.test/unsub?t=1");
        var operationId = MailIdentity.OperationId(mail.MessageId).ToString();
        SendAccepts(operationId);
        var status = Request.Create().WithPath($"/emails/operations/{operationId}").WithParam("api-version", AcsEmailClient.ApiVersion).UsingGet();
        _acs.Given(status).InScenario("op").WillSetStateTo("running")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Retry-After", "1").WithBody($$"""{"id":"{{operationId}}","status":"Running"}"""));
        _acs.Given(status).InScenario("op").WhenStateIs("running")
            .RespondWith(Response.Create().WithStatusCode(200).WithBody($$"""{"id":"{{operationId}}","status":"Succeeded"}"""));
        await using var app = await StartAppAsync();

        await app.EnqueueAsync(mail);
        await app.DrainQueueAsync(SendEmail.FunctionName);

        var entries = _acs.LogEntries.Select(e => e.RequestMessage).ToList();
        Assert.Equal(3, entries.Count);
        var send = entries[0];
        Assert.Equal("POST", send.Method);
        Assert.Equal(operationId, send.Headers!["Operation-Id"].Single());
        Assert.Equal("Bearer entra-token-for-acs", send.Headers["Authorization"].Single());
        var body = JsonDocument.Parse(send.Body!).RootElement;
        Assert.Equal("DoNotReply@abc.azurecomm.net", body.GetProperty("senderAddress").GetString());
        Assert.Equal(mail.Subject, body.GetProperty("content").GetProperty("subject").GetString());
        Assert.Equal(mail.Text, body.GetProperty("content").GetProperty("plainText").GetString());
        Assert.Equal(mail.Html, body.GetProperty("content").GetProperty("html").GetString());
        var to = Assert.Single(body.GetProperty("recipients").GetProperty("to").EnumerateArray());
        Assert.Equal("asha@example.test", to.GetProperty("address").GetString());
        Assert.Equal("Asha Rao", to.GetProperty("displayName").GetString());
        Assert.Equal("<https://api.test/unsub?t=1>", body.GetProperty("headers").GetProperty("List-Unsubscribe").GetString());
        Assert.Equal("List-Unsubscribe=One-Click", body.GetProperty("headers").GetProperty("List-Unsubscribe-Post").GetString());
        Assert.True(body.GetProperty("userEngagementTrackingDisabled").GetBoolean());
        Assert.All(entries.Skip(1), poll => Assert.Equal("GET", poll.Method));
        Assert.Equal(["https://communication.azure.com//.default"], _credential.Scopes.Distinct());

        var row = await app.SentRowAsync(mail);
        Assert.Equal(SentMailState.Sent, row?.State);
        Assert.Equal(operationId, row?.ProviderId);
    }

    [Fact]
    public async Task Every_attempt_at_one_message_names_the_same_operation_so_acs_deduplicates_it()
    {
        var mail = MailTestKit.Mail();
        var operationId = MailIdentity.OperationId(mail.MessageId).ToString();
        // The first attempt's status poll fails past the client's retries (the process might as well have crashed).
        _acs.Given(Request.Create().WithPath("/emails:send").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(202).WithBody($$"""{"id":"{{operationId}}","status":"Running"}"""));
        _acs.Given(Request.Create().WithPath($"/emails/operations/{operationId}").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(403).WithBody("""{"error":{"code":"Forbidden","message":"role not yet assigned"}}"""));
        await using var app = await StartAppAsync();
        await app.EnqueueAsync(mail);
        var queue = app.Storage.Queue(app.Services.GetRequiredService<MailQueue>().Name);
        var message = (await queue.ReceiveMessageAsync()).Value;

        using (var first = await app.InvokeAsync(SendEmail.FunctionName, HostInvocations.QueueTextEnvelope(message.Body.ToString(), 1, message.MessageId)))
        {
            Assert.False(first.IsSuccessStatusCode);
        }

        Assert.Equal(SentMailState.Sending, (await app.SentRowAsync(mail))?.State);
        // ACS answers a second send with the same operation id with 409; the operation has succeeded meanwhile.
        _acs.ResetMappings();
        _acs.Given(Request.Create().WithPath("/emails:send").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(409).WithBody("""{"error":{"code":"Conflict","message":"operation exists"}}"""));
        _acs.Given(Request.Create().WithPath($"/emails/operations/{operationId}").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody($$"""{"id":"{{operationId}}","status":"Succeeded"}"""));
        using (var second = await app.InvokeAsync(SendEmail.FunctionName, HostInvocations.QueueTextEnvelope(message.Body.ToString(), 2, message.MessageId)))
        {
            Assert.True(second.IsSuccessStatusCode, string.Join(", ", _acs.LogEntries.Select(e => $"{e.RequestMessage.Method} {e.RequestMessage.Path} {e.ResponseMessage.StatusCode}")));
        }

        var sends = _acs.LogEntries.Where(e => e.RequestMessage.Method == "POST").Select(e => e.RequestMessage.Headers!["Operation-Id"].Single()).ToList();
        Assert.Equal([operationId, operationId], sends);
        var row = await app.SentRowAsync(mail);
        Assert.Equal(SentMailState.Sent, row?.State);
        Assert.Equal(2, row?.Attempts);
    }

    [Fact]
    public async Task A_failed_operation_is_recorded_as_rejected_and_not_retried()
    {
        var mail = MailTestKit.Mail();
        var operationId = MailIdentity.OperationId(mail.MessageId).ToString();
        SendAccepts(operationId);
        _acs.Given(Request.Create().WithPath($"/emails/operations/{operationId}").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(
                $$$"""{"id":"{{{operationId}}}","status":"Failed","error":{"code":"EmailDroppedAllRecipientsSuppressed","message":"suppressed"}}"""));
        await using var app = await StartAppAsync();

        await app.EnqueueAsync(mail);
        await app.DrainQueueAsync(SendEmail.FunctionName);

        Assert.Equal(SentMailState.Rejected, (await app.SentRowAsync(mail))?.State);
        await app.EnqueueAsync(mail);
        await app.DrainQueueAsync(SendEmail.FunctionName);
        Assert.Single(_acs.LogEntries, e => e.RequestMessage.Method == "POST");
    }
}

/// <summary>Entra ID's side of a managed identity: hands out a token and records the scopes asked for.</summary>
internal sealed class EntraToken : TokenCredential
{
    public System.Collections.Concurrent.ConcurrentQueue<string> Scopes { get; } = new();

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        foreach (var scope in requestContext.Scopes)
        {
            Scopes.Enqueue(scope);
        }

        return new AccessToken("entra-token-for-acs", DateTimeOffset.UtcNow.AddHours(1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}
