using System.Net;
using Seckill.IntegrationTests.Fixtures;
using static Seckill.IntegrationTests.Observability.Scraping;

namespace Seckill.IntegrationTests.Observability;

/// <summary>Shard 0 is a redis-server of the test's own, stopped and started again; the other shards stay on the shared servers.</summary>
public class Probing_readiness(PipelineFixture fixture)
{
    [Fact]
    public async Task Intake_and_worker_turn_unready_while_a_redis_shard_is_down_and_ready_when_it_returns()
    {
        var port = ChildProcess.FreePort();
        var log = Path.Combine(Path.GetTempPath(), $"redis-{port}.log");
        ChildProcess? redis = ChildProcess.StartRedis(port, log);
        try
        {
            var endpoints = new[] { $"127.0.0.1:{port}" }.Concat(fixture.RedisEndpoints.Skip(1)).ToList();
            await using var stores = await RedisShards.ConnectAsync(endpoints);
            Assert.True(await Waiting.UntilAsync(async () => stores.ForShard(0).Multiplexer.IsConnected, TimeSpan.FromSeconds(10)));
            await using var broker = await IsolatedBroker.CreateAsync(fixture);
            var settings = new Dictionary<string, string?>(broker.Settings);
            for (var i = 0; i < endpoints.Count; i++)
            {
                settings[$"Seckill:Redis:Shards:{i}"] = endpoints[i];
            }

            await using var intake = fixture.CreateIntake(settings);
            using var worker = fixture.CreateWorker(settings);
            await worker.StartAsync();
            var client = intake.CreateClient();
            using var probe = new HttpClient { BaseAddress = HttpAddressOf(worker) };

            async Task<bool> BothAsync(HttpStatusCode expected) =>
                (await client.GetAsync("/health/ready")).StatusCode == expected && (await probe.GetAsync("/health/ready")).StatusCode == expected;

            Assert.True(await Waiting.UntilAsync(() => BothAsync(HttpStatusCode.OK), TimeSpan.FromSeconds(30)));

            redis.KillHard();
            redis.Dispose();
            redis = null;
            Assert.True(await Waiting.UntilAsync(() => BothAsync(HttpStatusCode.ServiceUnavailable), TimeSpan.FromSeconds(30)),
                "still ready with shard 0 down: " + await (await client.GetAsync("/health/ready")).Content.ReadAsStringAsync());
            var unready = await (await client.GetAsync("/health/ready")).Content.ReadAsStringAsync();
            Assert.Contains("redis", unready, StringComparison.Ordinal);
            // Liveness is the process alone: a lost store does not make an orchestrator restart it.
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await probe.GetAsync("/health/live")).StatusCode);

            redis = ChildProcess.StartRedis(port, log);
            Assert.True(await Waiting.UntilAsync(() => BothAsync(HttpStatusCode.OK), TimeSpan.FromSeconds(60)));
            await worker.StopAsync();
        }
        finally
        {
            redis?.Dispose();
        }
    }
}
