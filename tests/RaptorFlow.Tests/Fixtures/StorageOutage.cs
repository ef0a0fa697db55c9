using System.Net;
using System.Net.Sockets;

namespace RaptorFlow.Tests.Fixtures;

/// <summary>
/// A loopback TCP relay in front of an Azurite: an app given <see cref="ConnectionString"/> reaches
/// storage through it, and <see cref="Begin"/> makes storage unreachable (connections refused,
/// open ones cut) without losing any data, until <see cref="End"/>.
/// </summary>
public sealed class StorageOutage : IAsyncDisposable
{
    private readonly Relay[] _relays;

    private StorageOutage(Azurite azurite)
    {
        _relays = [new Relay(azurite.BlobPort), new Relay(azurite.QueuePort), new Relay(azurite.TablePort)];
    }

    public static StorageOutage Over(Azurite azurite) => new(azurite);

    public string ConnectionString =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
        $"AccountKey={Azurite.DevelopmentAccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{_relays[0].Port}/devstoreaccount1;" +
        $"QueueEndpoint=http://127.0.0.1:{_relays[1].Port}/devstoreaccount1;" +
        $"TableEndpoint=http://127.0.0.1:{_relays[2].Port}/devstoreaccount1;";

    public void Begin()
    {
        foreach (var relay in _relays)
        {
            relay.Stop();
        }
    }

    public void End()
    {
        foreach (var relay in _relays)
        {
            relay.Start();
        }
    }

    public ValueTask DisposeAsync()
    {
        foreach (var relay in _relays)
        {
            relay.Stop();
        }

        return ValueTask.CompletedTask;
    }

    private sealed class Relay
    {
        private readonly int _upstream;
        private readonly object _gate = new();
        private TcpListener? _listener;
        private CancellationTokenSource _open = new();

        public Relay(int upstream)
        {
            _upstream = upstream;
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Start();
        }

        public int Port { get; }

        public void Start()
        {
            lock (_gate)
            {
                _open = new CancellationTokenSource();
                _listener = new TcpListener(IPAddress.Loopback, Port);
                _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                _listener.Start();
                _ = AcceptAsync(_listener, _open.Token);
            }
        }

        public void Stop()
        {
            lock (_gate)
            {
                _open.Cancel();
                _listener?.Stop();
                _listener = null;
            }
        }

        private async Task AcceptAsync(TcpListener listener, CancellationToken open)
        {
            while (!open.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await listener.AcceptTcpClientAsync(open);
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }

                _ = PipeAsync(client, open);
            }
        }

        private async Task PipeAsync(TcpClient client, CancellationToken open)
        {
            using (client)
            using (var upstream = new TcpClient())
            {
                try
                {
                    await upstream.ConnectAsync(IPAddress.Loopback, _upstream, open);
                    var down = client.GetStream();
                    var up = upstream.GetStream();
                    await Task.WhenAny(down.CopyToAsync(up, open), up.CopyToAsync(down, open));
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
                {
                    // The outage began, or either side closed: the connection ends.
                }
            }
        }
    }

}
