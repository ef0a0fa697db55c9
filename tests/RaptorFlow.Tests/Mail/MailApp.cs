using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Mail;
using RaptorFlow.Tests.Events;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Mail;

/// <summary>
/// An app whose mail, domain-event and key-expiry queues are its own, with a clock the tests move and
/// no in-process triggers: tests dispatch events and run the expiry functions as the host would.
/// </summary>
public sealed class MailApp : IAsyncLifetime
{
    public const string ConsoleUrl = "https://console.raptorflow.test/app/";
    public const string ApiUrl = "https://api.raptorflow.test/";

    private TestApp? _app;

    public TestApp App => _app ?? throw new InvalidOperationException("The app has not started.");
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);
    public MailQueueReader Mail { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var settings = MailQueueReader.WithOwnMailQueue(SignedInUsers.WithDevIssuer(new Dictionary<string, string?>
        {
            ["Auth:DevIssuer:TokenLifetimeMinutes"] = "1440",
            ["Mail:Links:ConsoleUrl"] = ConsoleUrl,
            ["Mail:Links:ApiUrl"] = ApiUrl,
            ["Mail:KeyExpiryQueue"] = $"{KeyExpiryQueue.Default}-{Guid.NewGuid():N}",
        }).WithOwnDispatchQueue());
        _app = await TestApp.StartAsync(settings, clock: Clock, hostDrivesTriggers: true);
        Mail = new MailQueueReader(_app);
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    /// <summary>The subscriber of the event stream that writes mail, for redelivering an event to it.</summary>
    public IDomainEventSubscriber MailSubscriber => App.Services.GetServices<IDomainEventSubscriber>().OfType<MailEvents>().Single();

    /// <summary>An event as the dispatcher hands it to subscribers, its data serialised as the API serialises it.</summary>
    public DomainEvent Event<T>(string orgId, string type, T data) =>
        new("evt_" + Guid.NewGuid().ToString("N"), type, Clock.GetUtcNow(), orgId,
            JsonSerializer.SerializeToElement(data, App.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions));

    /// <summary>Runs the expiry timer (<paramref name="timerRuns"/> times, as overlapping instances might), then the notice function on every message queued, as the host would.</summary>
    public async Task RunKeyExpiryAsync(int timerRuns = 1)
    {
        for (var run = 0; run < timerRuns; run++)
        {
            using var scope = App.Services.CreateScope();
            await scope.ServiceProvider.GetRequiredService<FindExpiringKeys>().RunOnceAsync(default);
        }

        var queue = App.Storage.Queue(App.Services.GetRequiredService<KeyExpiryQueue>().Name);
        await queue.CreateIfNotExistsAsync();
        var invoker = App.Services.GetRequiredService<FunctionInvoker>();
        var function = invoker.Find(NotifyKeyExpiry.FunctionName)!;
        while ((await queue.ReceiveMessagesAsync(32)).Value is { Length: > 0 } messages)
        {
            foreach (var message in messages)
            {
                await invoker.InvokeQueueAsync(function, new QueueTriggerMessage(message.Body.ToString(), message.DequeueCount, message.MessageId, message.InsertedOn, "test"), default);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
        }
    }

    /// <summary>An org (named <paramref name="name"/>) with an owner, an admin and a member, all with addresses.</summary>
    public async Task<Team> NewTeamAsync(string? name = null)
    {
        var owner = await App.SignInAsync(name: "Olivia Owner");
        var orgId = await owner.CreateOrgAsync(name);
        var admin = await App.SignInAsync();
        var member = await App.SignInAsync();
        await owner.AddMemberAsync(orgId, admin, "admin");
        await owner.AddMemberAsync(orgId, member, "member");
        await App.DispatchEventsAsync();
        return new Team(orgId, owner, admin, member);
    }

    public static async Task PatchOrgAsync(TestUser owner, string orgId, object body)
    {
        using var response = await owner.Client.PatchAsJsonAsync(new Uri($"/api/v1/orgs/{orgId}", UriKind.Relative), body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }
}

public sealed record Team(string OrgId, TestUser Owner, TestUser Admin, TestUser Member);

[CollectionDefinition(Name)]
public sealed class MailCollection : ICollectionFixture<MailApp>
{
    public const string Name = "Mail";
}
