using System.Net;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Purchases;

/// <summary>The crowd: far more buyers than units, all at once, plus buyers asking twice.</summary>
public class Buying_under_contention(PipelineFixture fixture)
{
    [Fact]
    public async Task Accepts_exactly_the_stock_and_publishes_every_purchase_in_exactly_one_message()
    {
        const int stock = 1_000, shards = 4, buyers = 20_000, repeats = 2_000;
        var campaign = await fixture.CreateCampaignAsync(stock, shards);
        await using var tap = await AcceptedTap.StartAsync(fixture, campaign.Id);
        var client = fixture.AnonymousClient();

        var firstWave = Enumerable.Range(0, buyers).Select(i => $"crowd-{i}").ToList();
        var repeatWave = Enumerable.Range(0, repeats).Select(i => $"crowd-{i * (buyers / repeats)}");
        // Repeats are mixed into the crowd, so many arrive while units are still left.
        var arrivals = firstWave.Concat(repeatWave).ToArray();
        new Random(1000).Shuffle(arrivals);
        var responses = await Task.WhenAll(arrivals.Select(user => client.BuyAsync(campaign.Id, user)));

        var byStatus = responses.GroupBy(r => r.StatusCode).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(stock, byStatus.GetValueOrDefault(HttpStatusCode.Accepted));
        Assert.Equal(buyers + repeats, byStatus.GetValueOrDefault(HttpStatusCode.Accepted)
            + byStatus.GetValueOrDefault(HttpStatusCode.Gone) + byStatus.GetValueOrDefault(HttpStatusCode.Conflict));
        var accepted = new HashSet<Guid>();
        foreach (var response in responses.Where(r => r.StatusCode == HttpStatusCode.Accepted))
        {
            Assert.True(accepted.Add(await response.AcceptedReservationAsync()));
        }

        var redis = await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards);
        Assert.Equal(0, redis.TotalStock);
        Assert.Equal(stock, redis.Tokens.Count);
        var holders = redis.ParsedTokens.Select(t => t.Fields["u"]).ToList();
        Assert.Equal(holders.Count, holders.Distinct().Count());
        Assert.All(redis.ParsedTokens, t => Assert.True(t.Fields["s"] is "reserved" or "queued" or "claimed" or "confirmed", t.Fields["s"]));

        var published = await tap.SettleAsync(stock, TimeSpan.FromSeconds(30));
        Assert.Equal(stock, published.Count);
        Assert.True(accepted.SetEquals(published), "every 202 has exactly one SeckillAccepted on the queue");
        // The crowd shared confirms: the intake's group commit put many purchases in one message.
        Assert.InRange(tap.Messages, 1, stock - 1);
        await fixture.AssertDrainedAsync(campaign.Id, shards, stock);
    }
}
