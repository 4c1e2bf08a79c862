using System.Net;
using System.Net.Http.Json;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Campaigns;

public class Creating_a_campaign(PipelineFixture fixture)
{
    private readonly HttpClient _admin = fixture.AdminClient();

    [Fact]
    public async Task Spreads_the_stock_over_its_shards_in_redis_and_stores_the_row()
    {
        var response = await _admin.PostAsJsonAsync("/api/campaigns", new { name = "spread", stock = 10, shards = 4 }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<CampaignJson>(TestContext.Current.CancellationToken);
        Assert.NotNull(created);
        Assert.Equal($"/api/campaigns/{created.Id}", response.Headers.Location?.OriginalString);
        Assert.Equal([3L, 3L, 2L, 2L], created.Shards.OrderBy(s => s.Index).Select(s => s.VirtualStock));
        Assert.Equal(new CountsJson(0, 0, 0, 0, 0, 0), created.Counts);
        Assert.Equal("open", created.Status);

        for (var shard = 0; shard < 4; shard++)
        {
            Assert.Equal(shard < 2 ? 3 : 2, await fixture.VirtualStockAsync(created.Id, shard));
        }

        Assert.Equal(1, await fixture.CountAsync(
            "SELECT count(*) FROM campaigns WHERE id = $1 AND name = 'spread' AND total_stock = 10 AND sold = 0 AND shard_count = 4 AND inventory_loaded_at IS NOT NULL",
            created.Id));

        var read = await _admin.GetFromJsonAsync<CampaignJson>($"/api/campaigns/{created.Id}", TestContext.Current.CancellationToken);
        Assert.Equal(created.Shards, read!.Shards);
        var listed = await _admin.GetFromJsonAsync<List<CampaignJson>>("/api/campaigns", TestContext.Current.CancellationToken);
        Assert.Contains(listed!, c => c.Id == created.Id);
    }

    [Fact]
    public async Task Puts_shard_i_on_endpoint_i_mod_endpoints()
    {
        const int shards = 7;
        var created = await CreateAsync(new { name = "wrap", stock = 700, shards });

        var endpoints = fixture.RedisEndpointCount;
        for (var shard = 0; shard < shards; shard++)
        {
            Assert.Equal(100, await fixture.VirtualStockAsync(created.Id, shard));
            var key = Stores.ShardKey(created.Id, shard, "stock");
            var elsewhere = fixture.RedisForShard(shard + 1);
            if (endpoints > 1)
            {
                Assert.False(await elsewhere.KeyExistsAsync(key), $"shard {shard} must live only on endpoint {shard % endpoints}");
            }
        }
    }

    [Fact]
    public async Task Uses_one_shard_per_configured_endpoint_by_default()
    {
        var created = await CreateAsync(new { name = "default shards", stock = 5 });

        Assert.Equal(fixture.RedisEndpointCount, created.Shards.Count);
        Assert.Equal(5, created.Shards.Sum(s => s.VirtualStock));
    }

    [Fact]
    public async Task Keeps_its_start_and_end()
    {
        var starts = DateTimeOffset.UtcNow.AddHours(1);
        var created = await CreateAsync(new { name = "later", stock = 3, shards = 1, startsAt = starts, endsAt = starts.AddHours(2) });

        Assert.Equal("scheduled", created.Status);
        Assert.Equal(starts.ToUnixTimeMilliseconds(), created.StartsAt.ToUnixTimeMilliseconds());
        Assert.Equal(starts.AddHours(2).ToUnixTimeMilliseconds(), created.EndsAt!.Value.ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task Reads_a_window_in_any_offset_as_the_same_instant()
    {
        // 17:00 in UTC+08:00 is 09:00 UTC, whatever the server's own time zone.
        var created = await CreateAsync(new { name = "offset", stock = 3, shards = 1, startsAt = "2031-03-01T17:00:00+08:00", endsAt = "2031-03-01T13:30:00-02:00" });

        Assert.Equal(new DateTimeOffset(2031, 3, 1, 9, 0, 0, TimeSpan.Zero), created.StartsAt);
        Assert.Equal(new DateTimeOffset(2031, 3, 1, 15, 30, 0, TimeSpan.Zero), created.EndsAt);
        Assert.Equal(1, await fixture.CountAsync(
            "SELECT count(*) FROM campaigns WHERE id = $1 AND starts_at = '2031-03-01T09:00:00Z' AND ends_at = '2031-03-01T15:30:00Z'", created.Id));
    }

    private async Task<CampaignJson> CreateAsync(object body)
    {
        var response = await _admin.PostAsJsonAsync("/api/campaigns", body, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CampaignJson>(TestContext.Current.CancellationToken))!;
    }
}
