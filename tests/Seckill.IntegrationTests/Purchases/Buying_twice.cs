using System.Net;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Purchases;

public class Buying_twice(PipelineFixture fixture)
{
    private readonly HttpClient _client = fixture.AnonymousClient();

    [Fact]
    public async Task Racing_without_a_key_yields_one_reservation_and_409s()
    {
        var campaign = await fixture.CreateCampaignAsync(stock: 10, shards: 4);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => _client.BuyAsync(campaign.Id, "racer")));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Accepted));
        foreach (var refused in responses.Where(r => r.StatusCode != HttpStatusCode.Accepted))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Equal("already-purchased", (await refused.ReadProblemAsync()).Code);
        }

        var redis = await RedisSnapshot.TakeAsync(fixture, campaign.Id, 4);
        Assert.Single(redis.Tokens);
        Assert.Equal(9, redis.TotalStock);
    }

    [Fact]
    public async Task Racing_with_one_key_gets_the_same_answer_and_one_reservation()
    {
        var campaign = await fixture.CreateCampaignAsync(stock: 10, shards: 4);
        var key = Guid.NewGuid().ToString();

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => _client.BuyAsync(campaign.Id, "keyed-racer", key)));

        var ids = new HashSet<Guid>();
        foreach (var response in responses)
        {
            ids.Add(await response.AcceptedReservationAsync());
        }

        Assert.Single(ids);
        var redis = await RedisSnapshot.TakeAsync(fixture, campaign.Id, 4);
        Assert.Single(redis.Tokens);
        Assert.Equal(9, redis.TotalStock);

        var later = await _client.BuyAsync(campaign.Id, "keyed-racer", key);
        Assert.Equal(ids.Single(), await later.AcceptedReservationAsync());
        var otherKey = await _client.BuyAsync(campaign.Id, "keyed-racer", Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Conflict, otherKey.StatusCode);
        Assert.Equal(9, (await RedisSnapshot.TakeAsync(fixture, campaign.Id, 4)).TotalStock);
    }

    [Fact]
    public async Task Another_buyer_cannot_see_my_reservation()
    {
        var campaign = await fixture.CreateCampaignAsync(stock: 2, shards: 2);
        var id = await (await _client.BuyAsync(campaign.Id, "owner")).AcceptedReservationAsync();

        var mine = await _client.ReservationAsync(id, "owner");
        Assert.NotNull(mine);
        Assert.Equal(campaign.Id, mine.CampaignId);
        Assert.Contains(mine.Status, (string[])["pending", "awaiting-payment"]);
        Assert.Null(await _client.ReservationAsync(id, "somebody-else"));
    }
}
