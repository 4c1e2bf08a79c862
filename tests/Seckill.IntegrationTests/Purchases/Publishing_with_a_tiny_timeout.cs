using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Seckill.Contracts;
using Seckill.IntegrationTests.Fixtures;
using Seckill.Inventory;
using Seckill.Messaging;
using Seckill.Worker.Sweeping;

namespace Seckill.IntegrationTests.Purchases;

/// <summary>
/// An intake whose broker confirm times out after 1 ms: under a crowd some publishes are confirmed in
/// time and others are not, and of those some reached the broker anyway. Whatever the race, the answer
/// must follow the token: a 503 holds nothing and can never become an order, a 202 is never lost.
/// </summary>
public class Publishing_with_a_tiny_timeout(PipelineFixture fixture)
{
    private const string TinyTimeout = "00:00:00.001";
    private const string WarmUpUser = "warm-up";

    // A cancelled declare can hold the intake's channel for RabbitMQ.Client's 20 s continuation timeout, twice in a row.
    private static readonly TimeSpan WaveDeadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Every_503_holds_nothing_and_every_202_becomes_an_order()
    {
        // Stock above the crowd: the real inventory never refuses anyone, so any 202 without an order is a loss.
        const int buyers = 300, stock = 320, shards = 4;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.CreateIntake(new Dictionary<string, string?>(broker.Settings)
        {
            ["Seckill:Intake:PublishTimeout"] = TinyTimeout,
        });
        _ = intake.Server;
        var campaign = await fixture.CreateCampaignAsync(stock, shards);
        await using var tap = await AcceptedTap.StartAsync(fixture, campaign.Id, broker.VirtualHost);
        // The sweeper publishes what the intake left reserved: a 202 whose undo threw, or a purchase whose
        // publish outlived the sweeper's timeout (its undo then finds the token queued and answers 202).
        using var worker = fixture.CreateWorker(new Dictionary<string, string?>(broker.Settings)
        {
            ["Seckill:Sweeper:Enabled"] = "true",
            ["Seckill:Sweeper:PendingTimeout"] = "00:00:02",
            ["Seckill:Sweeper:Interval"] = "00:00:00.250",
        }, new SweptCampaign(campaign.Id, shards));
        await worker.StartAsync();
        var client = intake.CreateClient();
        var warmUp = await WarmUpAsync(intake, campaign.Id, shards);

        // Bursts of 30: their confirms queue behind each other, so within a burst some arrive in time
        // and the rest do not, while the worker claims what was published before.
        const int waveSize = 30;
        var accepted = new Dictionary<string, Guid>();
        var unavailable = new HashSet<string>();
        var slowestWave = TimeSpan.Zero;
        for (var wave = 0; wave < buyers / waveSize; wave++)
        {
            var users = Enumerable.Range(wave * waveSize, waveSize).Select(i => $"hurried-{i}").ToList();
            var started = System.Diagnostics.Stopwatch.StartNew();
            // Bounded: a publish that outlives its timeout by minutes is a defect to report, not to wait out.
            var answered = Task.WhenAll(users.Select(user => client.BuyAsync(campaign.Id, user)));
            Assert.True(await Task.WhenAny(answered, Task.Delay(WaveDeadline)) == answered,
                $"wave {wave}: purchases still unanswered after {WaveDeadline.TotalSeconds} s with a publish timeout of {TinyTimeout}");
            var responses = await answered;
            slowestWave = started.Elapsed > slowestWave ? started.Elapsed : slowestWave;
            for (var i = 0; i < users.Count; i++)
            {
                var response = responses[i];
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    accepted.Add(users[i], await response.AcceptedReservationAsync());
                    continue;
                }

                Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable,
                    $"{users[i]} was answered {(int)response.StatusCode}; with stock for everyone only 202 or 503 broker-unavailable are possible");
                Assert.Equal("broker-unavailable", (await response.ReadProblemAsync()).Code);
                Assert.NotNull(response.Headers.RetryAfter);
                unavailable.Add(users[i]);
            }
        }

        Assert.Equal(buyers, accepted.Count + unavailable.Count);
        Assert.True(unavailable.Count > 0,
            $"all {buyers} publishes were confirmed within {TinyTimeout}: the timeout needs tuning (shorter, or larger waves) for this test to prove anything");
        Assert.True(accepted.Count > 0,
            $"all {buyers} publishes timed out after {TinyTimeout}: the timeout needs tuning (longer, or smaller waves) for this test to prove anything");

        // At the moment of the 503 nothing is held: the token is failed with the unit back and no marker names the buyer.
        var afterAnswers = await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards);
        AssertNothingHeldFor(unavailable, afterAnswers);
        foreach (var (user, reservationId) in accepted)
        {
            var marker = Assert.Single(afterAnswers.Markers, m => m.Key.EndsWith($":buyer:{user}", StringComparison.Ordinal));
            Assert.Equal($"{reservationId:N}|", marker.Value);
        }

        await fixture.AssertDrainedAsync(campaign.Id, shards, stock, TimeSpan.FromSeconds(90));
        // Drained means no token is pending; a message of a 503 that reached the broker late may still be
        // in flight, and it must find the token failed and write nothing.
        Assert.True(await Waiting.UntilAsync(async () => await broker.ReadyMessagesAsync("seckill-orders") == 0, TimeSpan.FromSeconds(30)));
        var published = await tap.SettleAsync(accepted.Count + 1, TimeSpan.FromSeconds(10));
        var redis = await fixture.AssertDrainedAsync(campaign.Id, shards, stock, TimeSpan.FromSeconds(30));
        Assert.False(worker.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested);
        await worker.StopAsync();

        // A 202 may end failed only with a recorded reason and its unit back; here the stock covers
        // everyone, so any such ending is shown by name and fails the test.
        var failedAccepted = redis.ParsedTokens
            .Where(t => t.Fields["s"] == "failed" && accepted.ContainsKey(t.Fields["u"]))
            .Select(t => $"{t.Fields["u"]} ({t.Fields.GetValueOrDefault("r")})")
            .ToList();
        Assert.True(failedAccepted.Count == 0,
            $"{failedAccepted.Count} purchases answered 202 ended failed (buyer and reason; their units are in the I3 count above): {string.Join(", ", failedAccepted)}");

        // Equality per reservation: every 202 (and the warm-up) has exactly its order, for its buyer, and there is no other order.
        var owed = accepted.Append(new KeyValuePair<string, Guid>(WarmUpUser, warmUp)).ToDictionary();
        var orders = await fixture.OrdersAsync(campaign.Id);
        Assert.Equal(owed.Values.Order(), orders.Keys.Order());
        foreach (var (user, reservationId) in owed)
        {
            Assert.Equal(user, orders[reservationId].UserId);
            var status = await client.ReservationAsync(reservationId, user);
            Assert.Equal("awaiting-payment", status!.Status);
            Assert.Equal(orders[reservationId].OrderId, status.OrderId);
        }

        Assert.DoesNotContain(orders.Values, o => unavailable.Contains(o.UserId));
        AssertNothingHeldFor(unavailable, redis);
        Assert.Equal(owed.Count, redis.ParsedTokens.Count(t => t.Fields["s"] == "confirmed"));
        Assert.Equal(unavailable.Count, redis.ParsedTokens.Count(t => t.Fields["s"] == "failed"));
        Assert.Equal(unavailable.Count, await FailedCounterAsync(campaign.Id, shards));
        Assert.Equal(stock - owed.Count, redis.TotalStock);
        Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM released_reservations WHERE campaign_id = $1", campaign.Id));

        // I4: every reservation owed an order was published at least once (some twice: the intake's
        // late confirm and a sweeper's copy), and each wrote exactly one order (OrdersAsync refuses a
        // second row per reservation); a 503's message that reached the broker anyway wrote nothing.
        Assert.Subset(published.ToHashSet(), owed.Values.ToHashSet());
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders"));
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders_error"));
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders-dead-letters"));
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-stock-returns"));
        var lateArrivals = published.Distinct().Count(id => !owed.ContainsValue(id));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{accepted.Count} × 202, {unavailable.Count} × 503; {lateArrivals} messages of 503 purchases reached the broker anyway and wrote nothing; " +
            $"slowest wave of {waveSize} answered in {slowestWave.TotalSeconds:F1} s");
    }

    /// <summary>
    /// The intake's first publish on a channel also declares the queues, under the same token as the
    /// confirm: a token of a few ms cancels those declares, and a cancelled declare holds the channel
    /// for RabbitMQ.Client's 20 s continuation timeout (reported separately; it can still happen later,
    /// on the channel that replaces one a timed-out publish faulted). This purchase — reserve, publish
    /// without a deadline, hand off, as the intake does — lets the crowd start on a declared channel.
    /// </summary>
    private async Task<Guid> WarmUpAsync(Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> intake, Guid campaignId, int shards)
    {
        var number = (int)await fixture.CountAsync("SELECT number FROM campaigns WHERE id = $1", campaignId);
        var reservations = intake.Services.GetRequiredService<ShardReservations>();
        var reserved = Assert.IsType<ReserveOutcome.Reserved>(await reservations.ReserveAsync(new CampaignShards(campaignId, number, shards), WarmUpUser, null));
        await intake.Services.GetRequiredService<MassTransit.IBus>().PublishAcceptedAsync(
            new SeckillAccepted(reserved.ReservationId, campaignId, WarmUpUser, reserved.Shard, reserved.AcceptedAt), CancellationToken.None)
            .WaitAsync(WaveDeadline);
        await reservations.HandOffAsync([new ShardReservation(campaignId, reserved.Shard, reserved.ReservationId)]);
        return reserved.ReservationId;
    }

    /// <summary>Each buyer answered 503 has one token, failed by the intake's undo, and no marker anywhere.</summary>
    private static void AssertNothingHeldFor(HashSet<string> unavailable, RedisSnapshot redis)
    {
        Assert.DoesNotContain(redis.Markers.Keys, key => unavailable.Contains(key[(key.LastIndexOf(":buyer:", StringComparison.Ordinal) + ":buyer:".Length)..]));
        foreach (var user in unavailable)
        {
            var token = Assert.Single(redis.ParsedTokens, t => t.Fields["u"] == user);
            Assert.Equal("failed", token.Fields["s"]);
            Assert.Equal("broker-unavailable", token.Fields["r"]);
        }
    }

    private async Task<long> FailedCounterAsync(Guid campaignId, int shards)
    {
        long failed = 0;
        for (var shard = 0; shard < shards; shard++)
        {
            failed += (long?)await fixture.RedisForShard(shard).StringGetAsync(Stores.ShardKey(campaignId, shard, "failed")) ?? 0;
        }

        return failed;
    }

}
