using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Seckill.IntegrationTests.Fixtures;

/// <summary>
/// A loopback TCP relay in front of one real server, so a test can take that server away from one
/// process under test (cut every connection and refuse new ones), or make its answers late, without
/// touching it for the tests running beside it.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly int _upstreamPort;
    private readonly ConcurrentDictionary<TcpClient, byte> _connections = new();
    private readonly CancellationTokenSource _disposed = new();
    private TcpListener? _listener;
    private long _replyDelayTicks;

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

    /// <summary>
    /// How late the server's answers reach the process under test. Requests pass at once, so the
    /// server acts on time and only the caller waits: a script's effects are visible to everyone else
    /// this long before its caller can act on its answer.
    /// </summary>
    public TimeSpan ReplyDelay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _replyDelayTicks));
        set => Interlocked.Exchange(ref _replyDelayTicks, value.Ticks);
    }

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
            var b = CopyLateAsync(upstream.GetStream(), downstream.GetStream(), _disposed.Token);
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

    /// <summary>Each chunk leaves <see cref="ReplyDelay"/> after it arrived: added latency, no lost throughput.</summary>
    private async Task CopyLateAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        var chunks = Channel.CreateUnbounded<(DateTime Due, byte[] Bytes)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var writer = Task.Run(async () =>
        {
            await foreach (var (due, bytes) in chunks.Reader.ReadAllAsync(cancellationToken))
            {
                var wait = due - DateTime.UtcNow;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, cancellationToken);
                }

                await to.WriteAsync(bytes, cancellationToken);
            }
        }, cancellationToken);
        try
        {
            var buffer = new byte[81920];
            int read;
            while ((read = await from.ReadAsync(buffer, cancellationToken)) > 0)
            {
                chunks.Writer.TryWrite((DateTime.UtcNow + ReplyDelay, buffer[..read]));
            }
        }
        finally
        {
            chunks.Writer.TryComplete();
        }

        await writer;
    }

    public ValueTask DisposeAsync()
    {
        _disposed.Cancel();
        Cut();
        _disposed.Dispose();
        return ValueTask.CompletedTask;
    }
}
