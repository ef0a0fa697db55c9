using System.Net;
using System.Net.Sockets;

namespace RaptorFlow.Tests.Fixtures;

/// <summary>A storage account on a loopback port where nothing listens: every storage call is refused.</summary>
public static class UnreachableStorage
{
    public static string ConnectionString()
    {
        using var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        return "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
            $"AccountKey={Azurite.DevelopmentAccountKey};" +
            $"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
    }
}
