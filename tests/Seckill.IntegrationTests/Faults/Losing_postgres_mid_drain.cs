using System.Globalization;
using System.Net;
using Npgsql;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Faults;

public class Losing_postgres_mid_drain(PipelineFixture fixture)
{
    [Fact]
    public async Task Pauses_consumption_fails_nothing_and_completes_after_the_restart()
    {
        const int stock = 600, shards = 4;
        var connection = new NpgsqlConnectionStringBuilder(fixture.Settings["ConnectionStrings:Seckill"]);
        await using var relay = new TcpProxy(connection.Port);
        connection.Port = relay.Port;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.CreateIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(stock, shards);
        var client = intake.CreateClient();
        var responses = await Task.WhenAll(Enumerable.Range(0, stock).Select(i => client.BuyAsync(campaign.Id, $"patient-{i}")));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));

        using var worker = fixture.CreateWorker(new Dictionary<string, string?>(broker.Settings)
        {
            ["ConnectionStrings:Seckill"] = connection.ConnectionString,
            ["Seckill:Worker:MaxOrdersPerSecond"] = "150",
            ["Seckill:Worker:BatchSize"] = "25",
        });
        await worker.StartAsync();
        Assert.True(await Waiting.UntilAsync(async () => await fixture.SoldAsync(campaign.Id) >= 100, TimeSpan.FromSeconds(30)));

        relay.Cut();
        await Task.Delay(TimeSpan.FromSeconds(1));
        var soldWhenDown = await fixture.SoldAsync(campaign.Id);
        await Task.Delay(TimeSpan.FromSeconds(9));

        Assert.Equal(soldWhenDown, await fixture.SoldAsync(campaign.Id));
        Assert.True(soldWhenDown < stock, "PostgreSQL must go away in the middle of the drain");
        // The rest stays in the broker's hands: its messages are not acknowledged and its tokens wait.
        // One batch (25) may be in doubt: committed as the connection broke, not yet confirmed in Redis.
        Assert.InRange(await PendingTokensAsync(campaign.Id, shards), stock - soldWhenDown, stock - soldWhenDown + 25);
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders_error"));
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-stock-returns"));

        relay.Open();
        await fixture.AssertDrainedAsync(campaign.Id, shards, stock, TimeSpan.FromSeconds(90));
        await worker.StopAsync();

        Assert.Equal(stock, await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1", campaign.Id));
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders_error"));
        Assert.Equal(0, (await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards)).ParsedTokens.Count(t => t.Fields["s"] == "failed"));
    }

    private async Task<long> PendingTokensAsync(Guid campaignId, int shards)
    {
        long pending = 0;
        for (var shard = 0; shard < shards; shard++)
        {
            pending += (long?)await fixture.RedisForShard(shard).StringGetAsync(Stores.ShardKey(campaignId, shard, "pending")) ?? 0;
        }

        return pending;
    }
}
