using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Faults;

/// <summary>
/// Shard 0 of this test's campaign lives on a redis-server of the test's own, without persistence,
/// which the test kills and starts again empty in the middle of the sale; the other shards stay on
/// the shared servers.
/// </summary>
public class Restarting_a_redis_shard_empty(PipelineFixture fixture)
{
    [Fact]
    public async Task Reconciliation_restores_the_stock_and_no_unit_is_sold_twice()
    {
        const int stock = 400, shards = 4;
        var port = ChildProcess.FreePort();
        var log = Path.Combine(Path.GetTempPath(), $"redis-{port}.log");
        var redis = ChildProcess.StartRedis(port, log);
        try
        {
            var endpoints = new[] { $"127.0.0.1:{port}" }.Concat(fixture.RedisEndpoints.Skip(1)).ToList();
            await using var stores = await RedisShards.ConnectAsync(endpoints);
            Assert.True(await Waiting.UntilAsync(async () => stores.ForShard(0).Multiplexer.IsConnected, TimeSpan.FromSeconds(10)));
            await using var broker = await IsolatedBroker.CreateAsync(fixture);
            var settings = new Dictionary<string, string?>(broker.Settings)
            {
                ["Seckill:Redis:Shards:0"] = endpoints[0],
                ["Seckill:Redis:Shards:1"] = endpoints[1],
                ["Seckill:Redis:Shards:2"] = endpoints[2],
                ["Seckill:Redis:Shards:3"] = endpoints[3],
            };
            await using var intake = fixture.CreateIntake(settings);
            using var worker = fixture.CreateWorker(new Dictionary<string, string?>(settings) { ["Seckill:Worker:MaxOrdersPerSecond"] = "100" });
            await worker.StartAsync();
            var admin = fixture.AdminClient(intake);
            var client = intake.CreateClient();
            var campaign = await admin.CreateCampaignAsync(stock, shards);

            var first = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => client.BuyAsync(campaign.Id, $"early-{i}")));
            Assert.All(first, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
            Assert.True(await Waiting.UntilAsync(async () => await fixture.SoldAsync(campaign.Id) >= 50, TimeSpan.FromSeconds(30)));

            redis.KillHard();
            redis.Dispose();
            redis = ChildProcess.StartRedis(port, log);
            Assert.True(await Waiting.UntilAsync(async () =>
            {
                try
                {
                    await stores.ForShard(0).PingAsync();
                    return true;
                }
                catch (StackExchange.Redis.RedisConnectionException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(20)));
            Assert.False(await stores.ForShard(0).KeyExistsAsync(Stores.ShardKey(campaign.Id, 0, "stock")));

            // Accepted messages whose tokens died with the server still become orders.
            Assert.True(await Waiting.UntilAsync(async () => await fixture.SoldAsync(campaign.Id) == 200, TimeSpan.FromSeconds(60)),
                $"only {await fixture.SoldAsync(campaign.Id)} of 200 accepted purchases were written");

            var report = await admin.GetFromJsonAsync<ReportJson>($"/api/campaigns/{campaign.Id}/reconciliation");
            var lost = report!.Shards.Single(s => s.Index == 0);
            Assert.Null(lost.Actual);
            var applied = await (await admin.PostAsync($"/api/campaigns/{campaign.Id}/reconciliation", null)).Content.ReadFromJsonAsync<ReportJson>();
            Assert.True(applied!.Applied);
            foreach (var shard in applied.Shards)
            {
                Assert.Equal(shard.Expected, (long?)await stores.ForShard(shard.Index).StringGetAsync(Stores.ShardKey(campaign.Id, shard.Index, "stock")));
            }

            Assert.Equal(stock - 200, applied.Shards.Sum(s => s.Expected));

            // Buyers who already bought are refused again, also those whose marker lived on the lost shard.
            var again = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => client.BuyAsync(campaign.Id, $"early-{i}")));
            Assert.All(again, r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
            var second = await Task.WhenAll(Enumerable.Range(0, 300).Select(i => client.BuyAsync(campaign.Id, $"late-{i}")));
            Assert.Equal(stock - 200, second.Count(r => r.StatusCode == HttpStatusCode.Accepted));
            Assert.All(second.Where(r => r.StatusCode != HttpStatusCode.Accepted), r => Assert.Equal(HttpStatusCode.Gone, r.StatusCode));

            // Tokens confirmed before the crash died with the server; the orders in PostgreSQL are the record.
            await fixture.AssertDrainedAsync(campaign.Id, shards, stock, TimeSpan.FromSeconds(60), stores, tokensSurvived: false);
            await worker.StopAsync();
            Assert.Equal(stock, await fixture.CountAsync("SELECT count(DISTINCT user_id) FROM orders WHERE campaign_id = $1", campaign.Id));
        }
        finally
        {
            redis.Dispose();
        }
    }

    private sealed record ReportJson(Guid CampaignId, bool Applied, List<ShardJson> Shards, int MarkersRestored);

    private sealed record ShardJson(int Index, long? Actual, long Expected, long Open, long Confirmed, long Drift);
}
