using System.Net.Http.Json;
using Npgsql;

namespace Seckill.IntegrationTests.Fixtures;

/// <summary>Reads the stores directly, so tests check the invariants from PostgreSQL and Redis rather than from HTTP answers.</summary>
public static class Stores
{
    public static string ShardKey(Guid campaignId, int shard, string suffix) => $"{{sk:{campaignId:N}:{shard}}}:{suffix}";

    public static async Task<long?> VirtualStockAsync(this PipelineFixture fixture, Guid campaignId, int shard) =>
        (long?)await fixture.RedisForShard(shard).StringGetAsync(ShardKey(campaignId, shard, "stock"));

    /// <summary>The campaign's orders by reservation id; a second order for one reservation fails the read.</summary>
    public static async Task<Dictionary<Guid, (Guid OrderId, string UserId)>> OrdersAsync(this PipelineFixture fixture, Guid campaignId)
    {
        await using var command = fixture.Database.CreateCommand("SELECT reservation_id, id, user_id FROM orders WHERE campaign_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = campaignId });
        await using var reader = await command.ExecuteReaderAsync();
        var orders = new Dictionary<Guid, (Guid, string)>();
        while (await reader.ReadAsync())
        {
            orders.Add(reader.GetGuid(0), (reader.GetGuid(1), reader.GetString(2)));
        }

        return orders;
    }

    public static async Task<long> CountAsync(this PipelineFixture fixture, string sql, params object[] parameters)
    {
        await using var command = fixture.Database.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Every campaign that has virtual stock in Redis has its row in PostgreSQL. Rows are written
    /// before stock, so this holds at every instant, even while other tests create campaigns.
    /// </summary>
    public static async Task AssertNoOrphanStockAsync(this PipelineFixture fixture)
    {
        var ids = (await fixture.ScanKeysAsync("{sk:*}:stock"))
            .Select(key => Guid.ParseExact(key.Split(':')[1], "N"))
            .Distinct()
            .ToArray();
        if (ids.Length == 0)
        {
            return;
        }

        var known = await fixture.CountAsync("SELECT count(*) FROM campaigns WHERE id = ANY($1)", ids);
        Assert.Equal(ids.Length, known);
    }

    public static async Task<ProblemJson> ReadProblemAsync(this HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<ProblemJson>();
        Assert.NotNull(problem);
        Assert.Equal((int)response.StatusCode, problem.Status);
        Assert.Equal($"urn:seckill:{problem.Code}", problem.Type);
        return problem;
    }
}

/// <summary>A campaign's whole footprint in Redis, to prove invariants and that bad input changed nothing.</summary>
public sealed record RedisSnapshot(long[] Stock, Dictionary<string, string> Tokens, Dictionary<string, string> Markers)
{
    public long TotalStock => Stock.Sum();

    public static Task<RedisSnapshot> TakeAsync(PipelineFixture fixture, Guid campaignId, int shards) => TakeAsync(fixture.Redis, campaignId, shards);

    public static async Task<RedisSnapshot> TakeAsync(RedisShards fixture, Guid campaignId, int shards)
    {
        var stock = new long[shards];
        var tokens = new Dictionary<string, string>();
        var markers = new Dictionary<string, string>();
        // One SCAN per endpoint for the whole campaign; the keys name their shard in the hash tag.
        var keys = await fixture.ScanKeysAsync($"{{sk:{campaignId:N}:*");
        for (var shard = 0; shard < shards; shard++)
        {
            var db = fixture.ForShard(shard);
            stock[shard] = (long?)await db.StringGetAsync(Stores.ShardKey(campaignId, shard, "stock")) ?? 0;
            var prefix = $"{{sk:{campaignId:N}:{shard}}}:";
            foreach (var key in keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)))
            {
                if (key.Contains(":token:", StringComparison.Ordinal))
                {
                    var fields = await db.HashGetAllAsync(key);
                    tokens[key] = string.Join(",", fields.OrderBy(f => f.Name.ToString()).Select(f => $"{f.Name}={f.Value}"));
                }
                else if (key.Contains(":buyer:", StringComparison.Ordinal))
                {
                    markers[key] = (string?)await db.StringGetAsync(key) ?? "";
                }
            }
        }

        return new RedisSnapshot(stock, tokens, markers);
    }

    /// <summary>Token hashes by field: user (u), state (s), home shard (h).</summary>
    public IEnumerable<(string Key, Dictionary<string, string> Fields)> ParsedTokens =>
        Tokens.Select(t => (t.Key, t.Value.Split(',').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "")));

    public bool SameAs(RedisSnapshot other) =>
        Stock.SequenceEqual(other.Stock)
        && Tokens.OrderBy(t => t.Key).SequenceEqual(other.Tokens.OrderBy(t => t.Key))
        && Markers.OrderBy(t => t.Key).SequenceEqual(other.Markers.OrderBy(t => t.Key));
}

public static class Drain
{
    /// <summary>
    /// Waits until every token of the campaign is final (every shard's pending counter is zero, so
    /// compensation has run too), then checks I1 and I3 from the stores: orders never exceed the
    /// stock, sold equals the orders, and total stock = confirmed orders + Σ virtual stock, exactly.
    /// </summary>
    public static async Task<RedisSnapshot> AssertDrainedAsync(this PipelineFixture fixture, Guid campaignId, int shards, int totalStock, TimeSpan? timeout = null, RedisShards? redisShards = null, bool tokensSurvived = true)
    {
        var redisStores = redisShards ?? fixture.Redis;
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        long open;
        do
        {
            open = 0;
            for (var shard = 0; shard < shards; shard++)
            {
                open += (long?)await redisStores.ForShard(shard).StringGetAsync(Stores.ShardKey(campaignId, shard, "pending")) ?? 0;
            }

            if (open > 0)
            {
                await Task.Delay(100);
            }
        }
        while (open > 0 && DateTime.UtcNow < deadline);

        Assert.True(open == 0, $"{open} reservations were still open after the drain timeout");
        var orders = await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1", campaignId);
        var sold = await fixture.CountAsync("SELECT sold FROM campaigns WHERE id = $1", campaignId);
        var redis = await RedisSnapshot.TakeAsync(redisStores, campaignId, shards);
        Assert.True(orders <= totalStock, $"I1: {orders} orders for a stock of {totalStock}");
        Assert.Equal(orders, sold);
        Assert.Equal(totalStock, orders + redis.TotalStock);
        if (tokensSurvived)
        {
            Assert.Equal(orders, redis.ParsedTokens.Count(t => t.Fields["s"] == "confirmed"));
        }

        Assert.Equal(orders, await fixture.CountAsync(
            "SELECT count(DISTINCT user_id) FROM orders WHERE campaign_id = $1", campaignId));
        return redis;
    }
}

public static class Waiting
{
    public static Task<long> SoldAsync(this PipelineFixture fixture, Guid campaignId) =>
        fixture.CountAsync("SELECT sold FROM campaigns WHERE id = $1", campaignId);

    /// <summary>Polls <paramref name="condition"/> every 50 ms; false when <paramref name="timeout"/> ran out first.</summary>
    public static async Task<bool> UntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return await condition();
    }
}
