using System.Net;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Purchases;

public class Admission_control(PipelineFixture fixture)
{
    [Fact]
    public async Task Answers_429_with_retry_after_beyond_capacity_and_holds_nothing_for_those_buyers()
    {
        await using var intake = fixture.CreateIntake(new Dictionary<string, string?>
        {
            ["Seckill:Intake:MaxConcurrentPurchases"] = "1",
            ["Seckill:Intake:PurchaseQueueLimit"] = "0",
        });
        var client = intake.CreateClient();
        var campaign = await fixture.CreateCampaignAsync(stock: 500, shards: 4);

        var responses = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => client.BuyAsync(campaign.Id, $"admitted-{i}")));

        var throttled = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(throttled);
        foreach (var response in throttled)
        {
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.Equal("throttled", (await response.ReadProblemAsync()).Code);
        }

        var accepted = responses.Count(r => r.StatusCode == HttpStatusCode.Accepted);
        Assert.Equal(200, accepted + throttled.Count);
        var redis = await RedisSnapshot.TakeAsync(fixture, campaign.Id, 4);
        Assert.Equal(500 - accepted, redis.TotalStock);
        Assert.Equal(accepted, redis.Tokens.Count);
    }
}
