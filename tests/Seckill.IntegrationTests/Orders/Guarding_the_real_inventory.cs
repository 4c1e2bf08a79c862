using System.Net;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Orders;

public class Guarding_the_real_inventory(PipelineFixture fixture)
{
    [Fact]
    public async Task Stops_orders_at_the_stock_and_returns_no_phantom_units()
    {
        const int stock = 5, shards = 2;
        var campaign = await fixture.CreateCampaignAsync(stock, shards);
        // Virtual stock larger than the real one, as after a Redis shard came back with stale data.
        await fixture.RedisForShard(0).StringIncrementAsync(Stores.ShardKey(campaign.Id, 0, "stock"), 3);
        await fixture.RedisForShard(1).StringIncrementAsync(Stores.ShardKey(campaign.Id, 1, "stock"), 2);
        var client = fixture.AnonymousClient();

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => client.BuyAsync(campaign.Id, $"guarded-{i}")));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));

        var redis = await fixture.AssertDrainedAsync(campaign.Id, shards, stock);

        Assert.Equal(stock, await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1", campaign.Id));
        Assert.Equal(0, redis.TotalStock);
        var refused = redis.ParsedTokens.Where(t => t.Fields["s"] == "failed").ToList();
        Assert.Equal(5, refused.Count);
        Assert.All(refused, t => Assert.Equal("sold-out-in-database", t.Fields["r"]));
    }
}
