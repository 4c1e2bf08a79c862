using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Seckill.Inventory;

/// <summary>
/// One <see cref="ConnectionMultiplexer"/> per configured endpoint for the whole process.
/// Connecting is part of start-up, so a wrong endpoint stops the host with a clear message
/// instead of failing the first buyer.
/// </summary>
public sealed partial class ShardConnections(IOptions<RedisShardOptions> options, ILogger<ShardConnections> logger)
    : IHostedService, IAsyncDisposable
{
    private ConnectionMultiplexer[] _multiplexers = [];

    public int EndpointCount => options.Value.Shards.Count;

    /// <summary>The database holding shard <paramref name="shard"/> of any campaign.</summary>
    public IDatabase ForShard(int shard)
    {
        var multiplexers = _multiplexers;
        if (multiplexers.Length == 0)
        {
            throw new InvalidOperationException("Redis shards are not connected yet; the host has not started.");
        }

        return multiplexers[shard % multiplexers.Length].GetDatabase();
    }

    /// <summary>The indexes of the endpoints that do not answer PING (all of them before start-up).</summary>
    public async Task<IReadOnlyList<int>> UnreachableEndpointsAsync()
    {
        var multiplexers = _multiplexers;
        if (multiplexers.Length == 0)
        {
            return [.. Enumerable.Range(0, EndpointCount)];
        }

        var answers = await Task.WhenAll(multiplexers.Select(async m =>
        {
            try
            {
                await m.GetDatabase().PingAsync();
                return true;
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                return false;
            }
        }));
        return [.. answers.Select((up, i) => (up, i)).Where(a => !a.up).Select(a => a.i)];
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var connected = new ConnectionMultiplexer[settings.Shards.Count];
        for (var i = 0; i < connected.Length; i++)
        {
            connected[i] = await ConnectAsync(i, settings);
        }

        _multiplexers = connected;
        LogConnected(logger, connected.Length);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var multiplexer in _multiplexers)
        {
            await multiplexer.DisposeAsync();
        }

        _multiplexers = [];
    }

    private static async Task<ConnectionMultiplexer> ConnectAsync(int index, RedisShardOptions settings)
    {
        var endpoint = settings.Shards[index];
        ConfigurationOptions configuration;
        try
        {
            configuration = ConfigurationOptions.Parse(endpoint);
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"{RedisShardOptions.Section}:Shards:{index} is not a valid Redis endpoint: {e.Message}", e);
        }

        // Only the first connect aborts; once up, the multiplexer reconnects on its own.
        configuration.AbortOnConnectFail = true;
        configuration.ConnectTimeout = settings.ConnectTimeoutMilliseconds;
        configuration.SyncTimeout = settings.CommandTimeoutMilliseconds;
        configuration.AsyncTimeout = settings.CommandTimeoutMilliseconds;
        configuration.ConnectRetry = 2;
        try
        {
            return await ConnectionMultiplexer.ConnectAsync(configuration);
        }
        catch (RedisConnectionException e)
        {
            // The configuration string may carry a password; the message names the endpoint without it.
            throw new InvalidOperationException(
                $"Redis shard endpoint {RedisShardOptions.Section}:Shards:{index} ('{configuration.ToString(includePassword: false)}') is unreachable. " +
                "Start the local services with 'bash infra/services.sh up' or fix the endpoint.", e);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to {Count} Redis shard endpoint(s)")]
    private static partial void LogConnected(ILogger logger, int count);
}
