using StackExchange.Redis;

namespace Seckill.IntegrationTests.Fixtures;

/// <summary>The test's own connections to a set of Redis endpoints, laid out as the services lay shards (shard i on endpoint i mod count).</summary>
public sealed class RedisShards(IReadOnlyList<ConnectionMultiplexer> endpoints) : IAsyncDisposable
{
    public int EndpointCount => endpoints.Count;

    public static async Task<RedisShards> ConnectAsync(IEnumerable<string> endpoints) =>
        new(await Task.WhenAll(endpoints.Select(e => ConnectionMultiplexer.ConnectAsync(e + ",abortConnect=false"))));

    public IDatabase ForShard(int shard) => endpoints[shard % endpoints.Count].GetDatabase();

    public async Task<List<string>> ScanKeysAsync(string pattern)
    {
        var keys = new List<string>();
        foreach (var multiplexer in endpoints)
        {
            var server = multiplexer.GetServers().Single();
            await foreach (var key in server.KeysAsync(pattern: pattern, pageSize: 1000))
            {
                keys.Add(key.ToString());
            }
        }

        return keys;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var multiplexer in endpoints)
        {
            await multiplexer.DisposeAsync();
        }
    }
}
