using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Seckill.IntegrationTests.Fixtures;
using Seckill.IntegrationTests.Purchases;
using Seckill.Worker.Sweeping;
using StackExchange.Redis;

namespace Seckill.IntegrationTests.Faults;

/// <summary>
/// A buyer whose home shard is empty reserves on another shard, so the marker and the token live on
/// different Redis endpoints. The purchase's publish fails and its undo releases the token; the
/// marker's endpoint is cut away from that intake at that moment, so forgetting the marker fails
/// after the release succeeded. Only the token shard's unmark set still knows the marker must go.
/// </summary>
public class Forgetting_a_marker_fails_once(PipelineFixture fixture)
{
    private const int Shards = 2, Stock = 2, TokenShard = 0, HomeShard = 1;

    [Fact]
    public async Task The_sweeper_forgets_it_later_and_the_buyer_can_buy_again()
    {
        // Shard i lives on endpoint i mod endpoints: the two shards must not share a Redis server.
        Assert.True(fixture.RedisEndpointCount >= Shards, "this test needs the token's shard and the home shard on different Redis endpoints");
        await using var homeRelay = new TcpProxy(PortOf(fixture.RedisEndpoints[HomeShard]));
        await using var brokerRelay = new TcpProxy(int.Parse(fixture.Settings["Seckill:RabbitMq:Port"]!, CultureInfo.InvariantCulture));
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        var logs = new CapturedLogs();
        await using var doomedIntake = fixture.CreateIntake(new Dictionary<string, string?>(broker.Settings)
        {
            ["Seckill:RabbitMq:Port"] = brokerRelay.Port.ToString(CultureInfo.InvariantCulture),
            [$"Seckill:Redis:Shards:{HomeShard}"] = Relayed(fixture.RedisEndpoints[HomeShard], homeRelay.Port),
            // Long enough to cut the home shard after the marker was written and before the undo runs.
            ["Seckill:Intake:PublishTimeout"] = "00:00:05",
            ["Seckill:Redis:CommandTimeoutMilliseconds"] = "2000",
        }).WithWebHostBuilder(host => host.ConfigureServices(services => services.AddLogging(logging => logging.AddProvider(logs))));
        var doomed = doomedIntake.CreateClient();
        var campaign = await fixture.CreateCampaignAsync(Stock, Shards);
        var homedThere = Buying_when_the_home_shard_is_empty.BuyersHomedOn(HomeShard, Shards).Take(2).ToList();
        var (filler, buyer) = (homedThere[0], homedThere[1]);

        var filled = await (await doomed.BuyAsync(campaign.Id, filler)).AcceptedReservationAsync();
        Assert.Equal(0, await fixture.VirtualStockAsync(campaign.Id, HomeShard));

        brokerRelay.Cut();
        var homeRedis = fixture.RedisForShard(HomeShard);
        var markerKey = Stores.ShardKey(campaign.Id, HomeShard, $"buyer:{buyer}");
        var purchase = doomed.BuyAsync(campaign.Id, buyer);
        Assert.True(await Waiting.UntilAsync(async () => ((string?)await homeRedis.StringGetAsync(markerKey)) is { } held && !held.StartsWith('~'),
            TimeSpan.FromSeconds(10)), "the buyer never reserved on the other shard");
        // The reply that settled the marker is relayed back well within this pause.
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        homeRelay.Cut();
        Assert.False(purchase.IsCompleted, "the publish must still be waiting when the home shard goes away");

        var refused = await purchase;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("broker-unavailable", (await refused.ReadProblemAsync()).Code);
        var afterFault = await RedisSnapshot.TakeAsync(fixture, campaign.Id, Shards);
        var (tokenKey, token) = Assert.Single(afterFault.ParsedTokens, t => t.Fields["u"] == buyer);
        Assert.StartsWith($"{{sk:{campaign.Id:N}:{TokenShard}}}:token:", tokenKey, StringComparison.Ordinal);
        var released = tokenKey[(tokenKey.LastIndexOf(':') + 1)..];
        Assert.Equal("failed", token["s"]);
        Assert.Equal("broker-unavailable", token["r"]);
        Assert.Equal(HomeShard.ToString(CultureInfo.InvariantCulture), token["h"]);
        Assert.Equal([1L, 0L], afterFault.Stock);
        Assert.Equal(1, (long?)await fixture.RedisForShard(TokenShard).StringGetAsync(Stores.ShardKey(campaign.Id, TokenShard, "failed")));
        Assert.Equal(0, (long?)await fixture.RedisForShard(TokenShard).StringGetAsync(Stores.ShardKey(campaign.Id, TokenShard, "pending")));
        // The fault really happened: release.lua recorded what to forget, and the forget never reached the home shard.
        var unmark = Stores.ShardKey(campaign.Id, TokenShard, "unmark");
        Assert.Equal([$"{HomeShard}:{released}:{buyer}"], (await fixture.RedisForShard(TokenShard).SetMembersAsync(unmark)).Select(m => (string)m!));
        Assert.Equal($"{released}|", (string?)await homeRedis.StringGetAsync(markerKey));
        Assert.Contains(logs.Lines, line => line.Contains($"Forgetting the marker of reservation {Guid.ParseExact(released, "N")}", StringComparison.Ordinal));

        // Until the marker is forgotten the stale marker locks the buyer out.
        await using var intake = fixture.CreateIntake(broker.Settings);
        var client = intake.CreateClient();
        var lockedOut = await client.BuyAsync(campaign.Id, buyer);
        Assert.Equal(HttpStatusCode.Conflict, lockedOut.StatusCode);
        Assert.Equal("already-purchased", (await lockedOut.ReadProblemAsync()).Code);

        using var worker = fixture.CreateWorker(QuickSweeper.With(broker.Settings), new SweptCampaign(campaign.Id, Shards));
        await worker.StartAsync();
        Assert.True(await Waiting.UntilAsync(async () =>
                await fixture.RedisForShard(TokenShard).SetLengthAsync(unmark) == 0 && !await homeRedis.KeyExistsAsync(markerKey),
            TimeSpan.FromSeconds(30)), "the sweeper never forgot the marker");

        var bought = await (await client.BuyAsync(campaign.Id, buyer)).AcceptedReservationAsync();
        var redis = await fixture.AssertDrainedAsync(campaign.Id, Shards, Stock);
        await worker.StopAsync();

        Assert.Equal(0, redis.TotalStock);
        Assert.Equal(1, await fixture.CountAsync("SELECT count(*) FROM orders WHERE reservation_id = $1 AND user_id = $2", bought, buyer));
        Assert.Equal(1, await fixture.CountAsync("SELECT count(*) FROM orders WHERE reservation_id = $1 AND user_id = $2", filled, filler));
        Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM orders WHERE reservation_id = $1", Guid.ParseExact(released, "N")));
        Assert.Equal(Stock, await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1", campaign.Id));
        Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM released_reservations WHERE campaign_id = $1", campaign.Id));
        var status = await client.ReservationAsync(bought, buyer);
        Assert.Equal("awaiting-payment", status!.Status);
        Assert.Equal("failed", (await client.ReservationAsync(Guid.ParseExact(released, "N"), buyer))!.Status);
        Assert.Equal($"{bought:N}|", (string?)await homeRedis.StringGetAsync(markerKey));
        Assert.Equal(0, await fixture.RedisForShard(TokenShard).SetLengthAsync(unmark));
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders"));
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders_error"));

        // Let the cut intake's bus stop cleanly instead of waiting out its stop timeout.
        brokerRelay.Open();
        homeRelay.Open();
    }

    private static int PortOf(string endpoint) => ConfigurationOptions.Parse(endpoint).EndPoints.Single() switch
    {
        System.Net.IPEndPoint ip => ip.Port,
        DnsEndPoint dns => dns.Port,
        var other => throw new InvalidOperationException($"Unexpected Redis endpoint {other}"),
    };

    /// <summary>The same endpoint options (a password, say) with the relay as the server.</summary>
    private static string Relayed(string endpoint, int relayPort)
    {
        var options = ConfigurationOptions.Parse(endpoint);
        options.EndPoints.Clear();
        options.EndPoints.Add(IPAddress.Loopback, relayPort);
        return options.ToString(includePassword: true);
    }
}
