using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Seckill.Intake.Campaigns;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Campaigns;

/// <summary>Campaign ids come from clients: inventing them by the hundred thousand must not grow the intake's memory.</summary>
public class Looking_up_unknown_campaigns(PipelineFixture fixture)
{
    [Fact]
    public async Task Keeps_the_campaign_cache_within_its_bound_and_still_serves_real_campaigns()
    {
        const int bound = 1_000, unknownIds = 200_000, concurrency = 32;
        await using var intake = fixture.CreateIntake(new Dictionary<string, string?> { ["Seckill:Intake:CampaignCacheEntries"] = bound.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var client = intake.CreateClient();
        var directory = intake.Services.GetRequiredService<CampaignDirectory>();
        var real = await fixture.CreateCampaignAsync(stock: 5, shards: 1);
        Assert.Equal(HttpStatusCode.Accepted, (await client.BuyAsync(real.Id, "before-the-flood")).StatusCode);

        // The hot path's own lookup, without HTTP around it, so 200,000 ids take seconds rather than minutes.
        var largest = 0;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < unknownIds)
            {
                Assert.Null(await directory.FindAsync(Guid.NewGuid()));
                var held = directory.CachedEntries;
                int seen;
                while (held > (seen = Volatile.Read(ref largest)) && Interlocked.CompareExchange(ref largest, held, seen) != seen)
                {
                }
            }
        }));

        // Concurrent misses may each add one entry before the one that trims runs.
        Assert.InRange(largest, bound / 2, bound + concurrency);
        Assert.InRange(directory.CachedEntries, 1, bound);
        var unknown = await client.BuyAsync(Guid.NewGuid(), "flooder");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await client.BuyAsync(real.Id, "after-the-flood")).StatusCode);
    }
}
