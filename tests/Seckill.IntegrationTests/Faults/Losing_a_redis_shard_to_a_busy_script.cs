using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Seckill.IntegrationTests.Fixtures;
using Seckill.Inventory;
using Seckill.Worker;
using Seckill.Worker.Sweeping;
using StackExchange.Redis;

namespace Seckill.IntegrationTests.Faults;

/// <summary>
/// Shard 0 of this test's campaign lives on a redis-server of the test's own. In the middle of the
/// drain an endless Lua script occupies it: past <c>busy-reply-threshold</c> it answers every other
/// client BUSY until the script is killed — the server is up, but refuses all work.
/// </summary>
public class Losing_a_redis_shard_to_a_busy_script(PipelineFixture fixture)
{
    private const int Shards = 4, SharePerShard = 250, CrowdPerShard = 240, Orphans = 10;
    private const int Stock = Shards * SharePerShard;
    private static readonly TimeSpan LeastBusy = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task The_worker_stays_up_fails_nothing_and_completes_the_drain()
    {
        var port = ChildProcess.FreePort();
        var redisLog = Path.Combine(Path.GetTempPath(), $"redis-busy-{port}-{Guid.NewGuid():N}.log");
        using var redis = ChildProcess.StartRedis(port, redisLog);
        var endpoints = new[] { $"127.0.0.1:{port}" }
            .Concat(Enumerable.Range(1, Shards - 1).Select(shard => fixture.RedisEndpoints[shard % fixture.RedisEndpoints.Count]))
            .ToList();
        await using var stores = await RedisShards.ConnectAsync(endpoints);
        Assert.True(await Waiting.UntilAsync(async () => stores.ForShard(0).Multiplexer.IsConnected, TimeSpan.FromSeconds(10)));
        await using var admin = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},allowAdmin=true");
        var server = admin.GetServer($"127.0.0.1:{port}");
        // Without it Redis waits 5 s before answering BUSY; a short threshold makes the whole fault BUSY.
        await server.ConfigSetAsync("busy-reply-threshold", 100);

        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        var settings = new Dictionary<string, string?>(broker.Settings);
        for (var shard = 0; shard < Shards; shard++)
        {
            settings[$"Seckill:Redis:Shards:{shard}"] = endpoints[shard];
        }

        await using var intake = fixture.CreateIntake(settings);
        var client = intake.CreateClient();
        var campaign = await fixture.AdminClient(intake).CreateCampaignAsync(Stock, Shards);

        // Every shard keeps a few units, so no buyer is sent elsewhere and the orphans below land on shard 0.
        var crowd = Enumerable.Range(0, Shards)
            .SelectMany(home => Enumerable.Range(0, int.MaxValue).Select(i => $"steady-{i}").Where(u => HomeShard.Of(u, Shards) == home).Take(CrowdPerShard))
            .ToList();
        var accepted = new Dictionary<string, Guid>();
        foreach (var (user, response) in crowd.Zip(await Task.WhenAll(crowd.Select(user => client.BuyAsync(campaign.Id, user)))))
        {
            accepted.Add(user, await response.AcceptedReservationAsync());
        }

        Assert.Equal(Enumerable.Repeat((long)SharePerShard - CrowdPerShard, Shards), (await RedisSnapshot.TakeAsync(stores, campaign.Id, Shards)).Stock);

        var logs = new CapturedLogs();
        using var worker = WorkerApp.Build([], fixture.With(new Dictionary<string, string?>(settings)
        {
            ["Seckill:Worker:MaxOrdersPerSecond"] = "100",
            ["Seckill:Worker:BatchSize"] = "25",
            ["Seckill:Sweeper:Enabled"] = "true",
            ["Seckill:Sweeper:PendingTimeout"] = "00:00:02",
            ["Seckill:Sweeper:Interval"] = "00:00:00.250",
        }), services =>
        {
            services.AddSingleton<ISweptCampaigns>(new OnlyTheseCampaigns([new SweptCampaign(campaign.Id, Shards)]));
            services.AddLogging(logging => logging.AddProvider(logs));
        });
        await worker.StartAsync();
        var lifetime = worker.Services.GetRequiredService<IHostApplicationLifetime>();
        var sweeper = worker.Services.GetRequiredService<UnsentReservationSweeper>();
        Assert.True(await Waiting.UntilAsync(async () => await fixture.SoldAsync(campaign.Id) >= 100, TimeSpan.FromSeconds(60)),
            "the worker never started writing");

        // Reservations whose intake died before publishing, on shard 0: due for the sweeper in 2 s,
        // that is while shard 0 answers BUSY, so only a sweeper that survived the fault publishes them.
        var orphans = await ReserveWithoutPublishingAsync(intake, campaign.Id);

        var soldAtFaultStart = await fixture.SoldAsync(campaign.Id);
        await using var scriptClient = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},asyncTimeout=120000,syncTimeout=120000");
        var endless = scriptClient.GetDatabase().ScriptEvaluateAsync("while true do end");
        var busy = Stopwatch.StartNew();
        var probes = new List<Probe>();
        long soldAtFaultEnd;
        var failedElsewhere = new long[Shards];
        try
        {
            Assert.True(await Waiting.UntilAsync(async () => await ProbeAsync(stores.ForShard(0)) == Probe.Busy, TimeSpan.FromSeconds(10)),
                "shard 0 never answered BUSY: the fault did not happen");
            busy.Restart();
            while (busy.Elapsed < TimeSpan.FromSeconds(30) && (busy.Elapsed < LeastBusy || !OrderPathMetBusy(logs) || !SweeperMetBusy(logs)))
            {
                probes.Add(await ProbeAsync(stores.ForShard(0)));
                await Task.Delay(250);
            }

            soldAtFaultEnd = await fixture.SoldAsync(campaign.Id);
            for (var shard = 1; shard < Shards; shard++)
            {
                failedElsewhere[shard] = (long?)await stores.ForShard(shard).StringGetAsync(Stores.ShardKey(campaign.Id, shard, "failed")) ?? 0;
            }
        }
        finally
        {
            busy.Stop();
            await server.ExecuteAsync("SCRIPT", "KILL");
        }

        var killed = await Assert.ThrowsAsync<RedisServerException>(() => endless);
        Assert.Contains("killed by user", killed.Message, StringComparison.OrdinalIgnoreCase);
        Assert.True(await Waiting.UntilAsync(async () => await ProbeAsync(stores.ForShard(0)) == Probe.Answered, TimeSpan.FromSeconds(10)));

        // The fault was real, continuous and met by the worker where it matters.
        Assert.True(busy.Elapsed >= LeastBusy, $"shard 0 was busy for only {busy.Elapsed.TotalSeconds:F1} s");
        Assert.DoesNotContain(Probe.Answered, probes);
        Assert.True(OrderPathMetBusy(logs), "no order batch met the BUSY shard: the fault missed the drain");
        Assert.True(SweeperMetBusy(logs), "the sweeper never met the BUSY shard");
        Assert.True(await Waiting.UntilAsync(async () =>
        {
            var text = ReadShared(redisLog);
            return text.Contains("Slow script detected", StringComparison.Ordinal)
                && text.Contains("Lua script killed by user with SCRIPT KILL", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(5)), $"the redis-server log does not record the busy script: {redisLog}");
        Assert.True(soldAtFaultEnd < accepted.Count + Orphans, $"the drain must be unfinished when the fault ends (sold {soldAtFaultEnd})");
        // While shard 0 refused everything, the worker failed nothing on the shards that still answered.
        Assert.Equal(new long[Shards], failedElsewhere);

        // The host kept running through the fault: it finishes the drain by itself.
        Assert.False(lifetime.ApplicationStopping.IsCancellationRequested, "the worker host began stopping");
        Assert.False(sweeper.ExecuteTask?.IsCompleted ?? true, "the sweeper loop ended");
        var drained = await fixture.AssertDrainedAsync(campaign.Id, Shards, Stock, TimeSpan.FromSeconds(120), stores);
        Assert.False(lifetime.ApplicationStopping.IsCancellationRequested, "the worker host began stopping");
        Assert.False(sweeper.ExecuteTask?.IsCompleted ?? true, "the sweeper loop ended");
        await worker.StopAsync();

        // Every 202 and every orphan has exactly its order, for its buyer; nothing else was written.
        var owed = accepted.Concat(orphans).ToDictionary();
        var orders = await fixture.OrdersAsync(campaign.Id);
        Assert.Equal(owed.Values.Order(), orders.Keys.Order());
        foreach (var (user, reservationId) in owed)
        {
            Assert.Equal(user, orders[reservationId].UserId);
        }

        foreach (var (user, reservationId) in accepted)
        {
            var status = await client.ReservationAsync(reservationId, user);
            Assert.Equal("awaiting-payment", status!.Status);
            Assert.Equal(orders[reservationId].OrderId, status.OrderId);
        }

        // Nothing failed on any shard: no failed token, counter, refusal, compensation or dead letter.
        Assert.Equal(owed.Count, drained.ParsedTokens.Count(t => t.Fields["s"] == "confirmed"));
        Assert.DoesNotContain(drained.ParsedTokens, t => t.Fields["s"] != "confirmed");
        for (var shard = 0; shard < Shards; shard++)
        {
            Assert.Equal(0, (long?)await stores.ForShard(shard).StringGetAsync(Stores.ShardKey(campaign.Id, shard, "failed")) ?? 0);
            Assert.Equal(0, await stores.ForShard(shard).SetLengthAsync(Stores.ShardKey(campaign.Id, shard, "unmark")));
        }

        Assert.Equal(new long[] { SharePerShard - CrowdPerShard - Orphans, SharePerShard - CrowdPerShard, SharePerShard - CrowdPerShard, SharePerShard - CrowdPerShard }, drained.Stock);
        Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM released_reservations WHERE campaign_id = $1", campaign.Id));
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders"));
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders_error"));
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders-dead-letters"));
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-stock-returns"));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"shard 0 answered BUSY for {busy.Elapsed.TotalSeconds:F1} s ({probes.Count(p => p == Probe.Busy)} of {probes.Count} probes BUSY); sold {soldAtFaultStart} at its start, " +
            $"{soldAtFaultEnd} at its end, {orders.Count} after the drain");
    }

    private enum Probe
    {
        Answered,
        Busy,
        Other,
    }

    private static async Task<Probe> ProbeAsync(IDatabase shard)
    {
        try
        {
            await shard.PingAsync();
            return Probe.Answered;
        }
        catch (RedisServerException e) when (e.Message.StartsWith("BUSY", StringComparison.Ordinal))
        {
            return Probe.Busy;
        }
        catch (RedisException)
        {
            return Probe.Other;
        }
    }

    // Any warning of the order path (not the sweeper) that names the BUSY reply: it waited instead of failing.
    private static bool OrderPathMetBusy(CapturedLogs logs) =>
        logs.Lines.Any(line => line.StartsWith("Warning Seckill.Worker.", StringComparison.Ordinal)
            && !line.Contains("Sweep", StringComparison.Ordinal)
            && line.Contains("BUSY", StringComparison.Ordinal));

    private static bool SweeperMetBusy(CapturedLogs logs) =>
        logs.Lines.Any(line => line.StartsWith("Warning Seckill.Worker.Sweeping.", StringComparison.Ordinal)
            && line.Contains("BUSY", StringComparison.Ordinal));

    /// <summary>What an intake does for a purchase up to, and not including, the publish: the token stays reserved.</summary>
    private async Task<Dictionary<string, Guid>> ReserveWithoutPublishingAsync(
        Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> intake, Guid campaignId)
    {
        var number = (int)await fixture.CountAsync("SELECT number FROM campaigns WHERE id = $1", campaignId);
        var reservations = intake.Services.GetRequiredService<ShardReservations>();
        var orphans = new Dictionary<string, Guid>();
        foreach (var user in Enumerable.Range(0, int.MaxValue).Select(i => $"orphan-{i}").Where(u => HomeShard.Of(u, Shards) == 0).Take(Orphans))
        {
            var reserved = Assert.IsType<ReserveOutcome.Reserved>(await reservations.ReserveAsync(new CampaignShards(campaignId, number, Shards), user, null));
            Assert.Equal(0, reserved.Shard);
            orphans.Add(user, reserved.ReservationId);
        }

        return orphans;
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

}
