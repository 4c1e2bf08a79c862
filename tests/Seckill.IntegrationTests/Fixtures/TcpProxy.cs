using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Seckill.IntegrationTests.Fixtures;

/// <summary>
/// A loopback TCP relay in front of one real server, so a test can take that server away from one
/// process under test (cut every connection and refuse new ones) without stopping it for the
/// tests running beside it.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly int _upstreamPort;
    private readonly ConcurrentDictionary<TcpClient, byte> _connections = new();
    private readonly CancellationTokenSource _disposed = new();
    private TcpListener? _listener;

    public TcpProxy(int upstreamPort)
    {
        _upstreamPort = upstreamPort;
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Open();
    }

    public int Port { get; }

    public void Open()
    {
        var listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        _ = AcceptAsync(listener);
    }

    /// <summary>Drops every relayed connection and refuses new ones until <see cref="Open"/>.</summary>
    public void Cut()
    {
        _listener?.Stop();
        _listener = null;
        foreach (var client in _connections.Keys)
        {
            try
            {
                // Reset rather than a graceful close: the process under test sees the server vanish.
                client.Client?.Close(timeout: 0);
            }
            catch (ObjectDisposedException)
            {
            }

            client.Close();
        }

        _connections.Clear();
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (!_disposed.IsCancellationRequested)
        {
            TcpClient downstream;
            try
            {
                downstream = await listener.AcceptTcpClientAsync(_disposed.Token);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
            {
                return;
            }

            _ = RelayAsync(downstream);
        }
    }

    private async Task RelayAsync(TcpClient downstream)
    {
        var upstream = new TcpClient();
        _connections[downstream] = 0;
        _connections[upstream] = 0;
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort, _disposed.Token);
            var a = downstream.GetStream().CopyToAsync(upstream.GetStream(), _disposed.Token);
            var b = upstream.GetStream().CopyToAsync(downstream.GetStream(), _disposed.Token);
            await Task.WhenAny(a, b);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
        }
        finally
        {
            _connections.TryRemove(downstream, out _);
            _connections.TryRemove(upstream, out _);
            downstream.Close();
            upstream.Close();
        }
    }

    public ValueTask DisposeAsync()
    {
        _disposed.Cancel();
        Cut();
        _disposed.Dispose();
        return ValueTask.CompletedTask;
    }
}
