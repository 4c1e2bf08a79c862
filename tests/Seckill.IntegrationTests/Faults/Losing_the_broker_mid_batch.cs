using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Faults;

/// <summary>
/// The broker goes away while a crowd's purchases are being published in group-commit messages: some
/// were confirmed, one was on its way, more were waiting behind it. A lost message takes many buyers
/// with it, and each of them must still be answered by the token: 503 holding nothing and never an
/// order, or 202 with exactly one order.
/// </summary>
public partial class Losing_the_broker_mid_batch(PipelineFixture fixture)
{
    private const string WarmUpUser = "warm-up";

    [Fact]
    public async Task Every_503_holds_nothing_every_202_gets_one_order_and_the_503s_buy_again_after()
    {
        // Stock above the crowd and its retries: the real inventory never refuses anyone, so a 202 without an order is a loss.
        const int buyers = 300, stock = 400, shards = 4, cutAfterAnswers = 60;
        await using var relay = new TcpProxy(int.Parse(fixture.Settings["Seckill:RabbitMq:Port"]!, CultureInfo.InvariantCulture));
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        var throughRelay = new Dictionary<string, string?>(broker.Settings)
        {
            ["Seckill:RabbitMq:Port"] = relay.Port.ToString(CultureInfo.InvariantCulture),
            ["Seckill:Intake:PublishTimeout"] = "00:00:02",
        };
        var logs = new CapturedLogs();
        await using var intake = fixture.CreateIntake(throughRelay)
            .WithWebHostBuilder(host => host.ConfigureServices(services => services.AddLogging(logging => logging.AddProvider(logs))));
        _ = intake.Server;
        using var worker = fixture.CreateWorker(throughRelay);
        await worker.StartAsync();
        var campaign = await fixture.CreateCampaignAsync(stock, shards);
        await using var tap = await AcceptedTap.StartAsync(fixture, campaign.Id, broker.VirtualHost);
        var client = intake.CreateClient();
        // The crowd starts on an open, declared channel, so the cut is the only thing that fails its publishes.
        var accepted = new Dictionary<string, Guid> { [WarmUpUser] = await (await client.BuyAsync(campaign.Id, WarmUpUser)).AcceptedReservationAsync() };

        var users = Enumerable.Range(0, buyers).Select(i => $"mid-batch-{i}").ToList();
        var answered = 0;
        var outstandingAtCut = -1;
        var buying = new List<Task<HttpResponseMessage>>(buyers);
        // Buyers keep arriving, ten every 10 ms, so whenever the cut comes the publisher loops are busy
        // with one message and the next purchases are gathering behind it.
        foreach (var wave in users.Chunk(10))
        {
            buying.AddRange(wave.Select(async user =>
            {
                var response = await client.BuyAsync(campaign.Id, user);
                if (Interlocked.Increment(ref answered) == cutAfterAnswers)
                {
                    relay.Cut();
                    outstandingAtCut = buyers - Volatile.Read(ref answered);
                }

                return response;
            }));
            await Task.Delay(10);
        }

        var responses = await Task.WhenAll(buying);

        var unavailable = new HashSet<string>();
        for (var i = 0; i < buyers; i++)
        {
            if (responses[i].StatusCode == HttpStatusCode.Accepted)
            {
                accepted.Add(users[i], await responses[i].AcceptedReservationAsync());
                continue;
            }

            Assert.True(responses[i].StatusCode == HttpStatusCode.ServiceUnavailable,
                $"{users[i]} was answered {(int)responses[i].StatusCode}; with stock for everyone only 202 or 503 broker-unavailable are possible");
            Assert.Equal("broker-unavailable", (await responses[i].ReadProblemAsync()).Code);
            Assert.NotNull(responses[i].Headers.RetryAfter);
            unavailable.Add(users[i]);
        }

        // The cut must have landed among the crowd's publishes, not before or after them.
        Assert.True(outstandingAtCut > 0, $"all {buyers} buyers were answered before the cut");
        Assert.True(accepted.Count > 1, "no buyer of the crowd was answered 202: the cut came before any publish");
        Assert.True(unavailable.Count > 0, "no buyer was answered 503: every publish was confirmed before the cut");
        var lostMessages = NotConfirmedPublishes(logs);
        Assert.True(lostMessages.Any(purchases => purchases > 1),
            $"no group-commit message of several purchases was lost to the cut (unconfirmed publishes of {string.Join(", ", lostMessages)} purchases)");
        AssertNothingHeldFor(unavailable, await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards));

        relay.Open();
        Assert.True(await Waiting.UntilAsync(async () => await OpenReservationsAsync(campaign.Id, shards) == 0, TimeSpan.FromSeconds(30)),
            "the worker did not finish the accepted purchases after the broker came back");
        // No token is open now, but a message of a 503 purchase that reached the broker may still be on its
        // way to the worker, and must find its token failed and write nothing.
        Assert.True(await Waiting.UntilAsync(async () => await broker.ReadyMessagesAsync("seckill-orders") == 0, TimeSpan.FromSeconds(20)));
        var published = (await tap.SettleAsync(accepted.Count, TimeSpan.FromSeconds(5))).ToHashSet();
        var redis = await fixture.AssertDrainedAsync(campaign.Id, shards, stock, TimeSpan.FromSeconds(10));

        await AssertOrdersAreExactlyAsync(accepted, campaign.Id);
        Assert.DoesNotContain((await fixture.OrdersAsync(campaign.Id)).Values, o => unavailable.Contains(o.UserId));
        AssertNothingHeldFor(unavailable, redis);
        Assert.Subset(published, accepted.Values.ToHashSet());
        Assert.Equal(accepted.Count, redis.ParsedTokens.Count(t => t.Fields["s"] == "confirmed"));
        Assert.Equal(unavailable.Count, redis.ParsedTokens.Count(t => t.Fields["s"] == "failed"));
        Assert.Equal(stock - accepted.Count, redis.TotalStock);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"cut after {cutAfterAnswers} answers with {outstandingAtCut} outstanding: {accepted.Count - 1} × 202, {unavailable.Count} × 503; " +
            $"unconfirmed publishes of {string.Join(", ", lostMessages)} purchases; " +
            $"{published.Count(id => !accepted.ContainsValue(id))} purchases answered 503 reached the broker anyway and wrote nothing");

        // Nothing held means nothing stands in the way: each 503 buyer buys again and gets an order.
        var firstAgain = unavailable.First();
        Assert.True(await Waiting.UntilAsync(async () =>
        {
            var retry = await client.BuyAsync(campaign.Id, firstAgain);
            if (retry.StatusCode == HttpStatusCode.Accepted)
            {
                accepted.Add(firstAgain, await retry.AcceptedReservationAsync());
                return true;
            }

            Assert.Equal(HttpStatusCode.ServiceUnavailable, retry.StatusCode);
            return false;
        }, TimeSpan.FromSeconds(20)), "the intake did not publish again after the broker came back");
        var others = unavailable.Where(user => user != firstAgain).ToList();
        var again = await Task.WhenAll(others.Select(user => client.BuyAsync(campaign.Id, user)));
        for (var i = 0; i < others.Count; i++)
        {
            accepted.Add(others[i], await again[i].AcceptedReservationAsync());
        }

        await fixture.AssertDrainedAsync(campaign.Id, shards, stock, TimeSpan.FromSeconds(20));
        await worker.StopAsync();
        await AssertOrdersAreExactlyAsync(accepted, campaign.Id);
        Assert.Equal(buyers + 1, accepted.Count);
    }

    private async Task<long> OpenReservationsAsync(Guid campaignId, int shards)
    {
        long open = 0;
        for (var shard = 0; shard < shards; shard++)
        {
            open += (long?)await fixture.RedisForShard(shard).StringGetAsync(Stores.ShardKey(campaignId, shard, "pending")) ?? 0;
        }

        return open;
    }

    /// <summary>Every reservation answered 202 has its one order, for its buyer, and no other order exists.</summary>
    private async Task AssertOrdersAreExactlyAsync(Dictionary<string, Guid> accepted, Guid campaignId)
    {
        var orders = await fixture.OrdersAsync(campaignId);
        Assert.Equal(accepted.Values.Order(), orders.Keys.Order());
        foreach (var (user, reservationId) in accepted)
        {
            Assert.Equal(user, orders[reservationId].UserId);
        }
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

    /// <summary>The purchases in each publish the intake logged as not confirmed.</summary>
    private static List<int> NotConfirmedPublishes(CapturedLogs logs) =>
        [.. logs.Lines.Select(line => NotConfirmed().Match(line)).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))];

    [GeneratedRegex(@"Publishing (\d+) accepted purchase\(s\) was not confirmed")]
    private static partial Regex NotConfirmed();
}
