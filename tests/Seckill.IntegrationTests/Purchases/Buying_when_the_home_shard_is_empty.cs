using System.Net;
using Seckill.IntegrationTests.Fixtures;
using Seckill.Inventory;

namespace Seckill.IntegrationTests.Purchases;

public class Buying_when_the_home_shard_is_empty(PipelineFixture fixture)
{
    private readonly HttpClient _client = fixture.AnonymousClient();

    [Fact]
    public async Task Takes_the_unit_from_another_shard()
    {
        const int shards = 4;
        var campaign = await fixture.CreateCampaignAsync(stock: 4, shards);
        var homedOnZero = BuyersHomedOn(0, shards).Take(5).ToList();

        for (var i = 0; i < 4; i++)
        {
            await (await _client.BuyAsync(campaign.Id, homedOnZero[i])).AcceptedReservationAsync();
        }

        var redis = await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards);
        Assert.Equal([0L, 0L, 0L, 0L], redis.Stock);
        Assert.Equal(4, redis.Tokens.Count);
        Assert.All(redis.ParsedTokens, t => Assert.Equal("0", t.Fields["h"]));

        var fifth = await _client.BuyAsync(campaign.Id, homedOnZero[4]);
        Assert.Equal(HttpStatusCode.Gone, fifth.StatusCode);
        Assert.Equal("sold-out", (await fifth.ReadProblemAsync()).Code);
    }

    [Fact]
    public async Task Is_never_told_sold_out_while_any_shard_has_stock()
    {
        const int shards = 8;
        var campaign = await fixture.CreateCampaignAsync(stock: 8, shards);
        // Buyers all homed on shard 3, one after another: each must find the next unit wherever it is.
        var buyers = BuyersHomedOn(3, shards).Take(8).ToList();

        foreach (var buyer in buyers)
        {
            var response = await _client.BuyAsync(campaign.Id, buyer);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        Assert.Equal(0, (await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards)).TotalStock);
    }

    [Fact]
    public async Task Still_cannot_reserve_twice_when_racing_itself()
    {
        const int shards = 2;
        var campaign = await fixture.CreateCampaignAsync(stock: 3, shards);
        // Empty the buyer's home shard so every request takes the cross-shard path.
        var buyer = BuyersHomedOn(1, shards).First();
        foreach (var other in BuyersHomedOn(1, shards).Skip(1).Take(1))
        {
            await (await _client.BuyAsync(campaign.Id, other)).AcceptedReservationAsync();
        }

        Assert.Equal(0, await fixture.VirtualStockAsync(campaign.Id, 1));

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => _client.BuyAsync(campaign.Id, buyer)));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Accepted));
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.Accepted), r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
        var redis = await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards);
        Assert.Single(redis.ParsedTokens, t => t.Fields["u"] == buyer);
        Assert.Equal(1, redis.TotalStock);
    }

    public static IEnumerable<string> BuyersHomedOn(int shard, int shards) =>
        Enumerable.Range(0, int.MaxValue).Select(i => $"homed-{Guid.NewGuid():N}").Where(u => HomeShard.Of(u, shards) == shard);
}
