using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MimeKit;
using RaptorFlow.Tests.Events;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace RaptorFlow.Tests.Mail;

/// <summary>
/// A real SMTP server on a free loopback port that keeps what it receives as parsed MIME messages.
/// It can refuse messages with a transient 451, as a relay under load or greylisting does.
/// </summary>
public sealed class SmtpTestServer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly SmtpServer.SmtpServer _server;
    private readonly Task _running;
    private readonly Store _store;

    private SmtpTestServer(int port)
    {
        Port = port;
        _store = new Store(this);
        var options = new SmtpServerOptionsBuilder()
            .ServerName("smtp.test")
            .Endpoint(e => e.Endpoint(new IPEndPoint(IPAddress.Loopback, port)).IsSecure(false))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(_store);
        _server = new SmtpServer.SmtpServer(options, services);
        _running = _server.StartAsync(_stop.Token);
    }

    public int Port { get; }

    public ConcurrentQueue<MimeMessage> Received { get; } = new();

    /// <summary>How many deliveries were refused so far.</summary>
    public int Refused => _store.Refused;

    /// <summary>Refuse this many messages (451) before accepting; <see cref="int.MaxValue"/> refuses all.</summary>
    public int RefuseFirst { get; set; }

    private TaskCompletionSource? _hold;

    /// <summary>Completes when the message <see cref="HoldNext"/> holds has reached the server's DATA step.</summary>
    public TaskCompletionSource Holding { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The next message waits in the DATA step, unanswered, until <paramref name="release"/> completes; later ones do not.</summary>
    public void HoldNext(TaskCompletionSource release) => _hold = release;

    public static async Task<SmtpTestServer> StartAsync()
    {
        var server = new SmtpTestServer(FreePort());
        // Listening once a client can connect.
        for (var tries = 0; ; tries++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, server.Port);
                return server;
            }
            catch (SocketException) when (tries < 100)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>
    /// Settings that send this app's mail here, on its own mail queue and its own event dispatch queue:
    /// on the shared dispatch queue this app would also mail about events of other tests' apps.
    /// </summary>
    public Dictionary<string, string?> Settings(IDictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Mail:Queue"] = $"mail-outbox-{Guid.NewGuid():N}",
            ["Mail:Provider"] = "Smtp",
            ["Mail:FromAddress"] = "noreply@raptorflow.test",
            ["Mail:FromName"] = "RaptorFlow",
            ["Mail:Smtp:Host"] = "127.0.0.1",
            ["Mail:Smtp:Port"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Mail:Smtp:Security"] = "None",
        }.WithOwnDispatchQueue();
        foreach (var (key, value) in more ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _server.Shutdown();
        try
        {
            await _running.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (OperationCanceledException)
        {
        }
        catch (TimeoutException)
        {
        }

        _stop.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class Store(SmtpTestServer owner) : MessageStore
    {
        private int _refused;

        public int Refused => Volatile.Read(ref _refused);

        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            if (Interlocked.Exchange(ref owner._hold, null) is { } hold)
            {
                owner.Holding.TrySetResult();
                await hold.Task.WaitAsync(cancellationToken);
            }

            if (Interlocked.Increment(ref _refused) <= owner.RefuseFirst)
            {
                // As real relays do, the refusal quotes the recipients: a logger that passes it on leaks addresses.
                var recipients = string.Join(", ", transaction.To.Select(m => $"<{m.User}@{m.Host}>"));
                return new SmtpResponse((SmtpReplyCode)451, $"4.3.0 {recipients}: try again later");
            }

            Interlocked.Decrement(ref _refused);
            using var stream = new MemoryStream(buffer.ToArray());
            owner.Received.Enqueue(await MimeMessage.LoadAsync(stream, cancellationToken));
            return SmtpResponse.Ok;
        }
    }
}
