using System.Net;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Purchases;

/// <summary>Patent step S3: only a campaign that is open sells, and each refusal leaves the stock untouched.</summary>
public class Qualifying_a_buyer(PipelineFixture fixture)
{
    private readonly HttpClient _client = fixture.AnonymousClient();

    [Fact]
    public async Task Before_the_start_is_409_not_started()
    {
        var campaign = await fixture.CreateCampaignAsync(stock: 5, shards: 1, startsAt: DateTimeOffset.UtcNow.AddHours(1));

        var response = await _client.BuyAsync(campaign.Id, "early");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("not-started", (await response.ReadProblemAsync()).Code);
        Assert.Equal(5, await fixture.VirtualStockAsync(campaign.Id, 0));
    }

    [Fact]
    public async Task After_the_end_is_410_ended()
    {
        // A window already over cannot be created, so the sale ends two seconds after it opens.
        var endsAt = DateTimeOffset.UtcNow.AddSeconds(2);
        var campaign = await fixture.CreateCampaignAsync(stock: 5, shards: 1, endsAt: endsAt);
        var untilEnded = endsAt - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(200);
        if (untilEnded > TimeSpan.Zero)
        {
            await Task.Delay(untilEnded, TestContext.Current.CancellationToken);
        }

        var response = await _client.BuyAsync(campaign.Id, "late");

        Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
        Assert.Equal("ended", (await response.ReadProblemAsync()).Code);
        Assert.Equal(5, await fixture.VirtualStockAsync(campaign.Id, 0));
    }

    [Fact]
    public async Task An_unknown_campaign_is_404()
    {
        var response = await _client.BuyAsync(Guid.NewGuid(), "lost");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("not-found", (await response.ReadProblemAsync()).Code);
    }
}
