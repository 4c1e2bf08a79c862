using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Seckill.IntegrationTests.Fixtures;
using StackExchange.Redis;

namespace Seckill.IntegrationTests.Purchases;

/// <summary>
/// One purchase, its Idempotency-Key sent to two intakes. The searcher intake reaches the campaign's
/// shard 1 through a relay whose answers are late, so a buyer whose home shard (0) is empty has the
/// searcher hold their marker for over half a second while it tries shard 1: long enough for every
/// request sent to the other intake meanwhile to meet the hold, not the finished reservation.
/// </summary>
public class Replaying_a_key_across_intakes(PipelineFixture fixture)
{
    private const int Shards = 2;
    private static readonly TimeSpan SlowReply = TimeSpan.FromMilliseconds(600);

    [Fact]
    public async Task Alternating_between_two_intakes_with_an_empty_home_shard_gets_one_reservation()
    {
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var relay = SlowShardRelay();
        await using var searcher = fixture.StartIntake(ThroughRelay(broker, relay));
        await using var other = fixture.StartIntake(broker.Settings);
        relay.ReplyDelay = SlowReply;
        var (a, b) = (searcher.CreateClient(), other.CreateClient());
        var campaign = await fixture.CreateCampaignAsync(stock: 2, Shards);
        var buyer = await BuyerWithAnEmptyHomeShardAsync(b, campaign.Id);
        var key = $"key-{Guid.NewGuid():N}";

        var first = a.BuyAsync(campaign.Id, buyer, key);
        await AwaitSearchAsync(campaign.Id, buyer);
        var during = new List<Task<HttpResponseMessage>>();
        for (var i = 0; i < 8; i++)
        {
            during.Add((i % 2 == 0 ? b : a).BuyAsync(campaign.Id, buyer, key));
            await Task.Delay(25);
        }

        var answers = (await Task.WhenAll([first, .. during])).ToList();
        for (var i = 0; i < 4; i++)
        {
            answers.Add(await (i % 2 == 0 ? b : a).BuyAsync(campaign.Id, buyer, key));
        }

        var ids = new HashSet<Guid>();
        foreach (var answer in answers)
        {
            ids.Add(await answer.AcceptedReservationAsync());
        }

        var reservation = Assert.Single(ids);
        var redis = await RedisSnapshot.TakeAsync(fixture, campaign.Id, Shards);
        var token = Assert.Single(redis.ParsedTokens, t => t.Fields["u"] == buyer);
        Assert.EndsWith($":token:{reservation:N}", token.Key, StringComparison.Ordinal);
        Assert.Equal($"{reservation:N}|{key}", await MarkerAsync(campaign.Id, buyer));
        Assert.Equal(0, redis.TotalStock);

        using var worker = fixture.CreateWorker(broker.Settings);
        await worker.StartAsync();
        await fixture.AssertDrainedAsync(campaign.Id, Shards, totalStock: 2);
        await worker.StopAsync();
        var orders = await fixture.OrdersAsync(campaign.Id);
        Assert.Equal(reservation, Assert.Single(orders, o => o.Value.UserId == buyer).Key);
    }

    [Fact]
    public async Task Meeting_a_search_that_finds_nothing_answers_sold_out()
    {
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var relay = SlowShardRelay();
        await using var searcher = fixture.StartIntake(ThroughRelay(broker, relay));
        await using var other = fixture.StartIntake(broker.Settings);
        relay.ReplyDelay = SlowReply;
        var (a, b) = (searcher.CreateClient(), other.CreateClient());
        var campaign = await fixture.CreateCampaignAsync(stock: 2, Shards);
        var buyer = await BuyerWithAnEmptyHomeShardAsync(b, campaign.Id);
        await (await b.BuyAsync(campaign.Id, Buying_when_the_home_shard_is_empty.BuyersHomedOn(1, Shards).First())).AcceptedReservationAsync();
        var key = $"key-{Guid.NewGuid():N}";

        var first = a.BuyAsync(campaign.Id, buyer, key);
        await AwaitSearchAsync(campaign.Id, buyer);
        var during = await Task.WhenAll(b.BuyAsync(campaign.Id, buyer, key), b.BuyAsync(campaign.Id, buyer, key));

        foreach (var answer in during.Prepend(await first))
        {
            Assert.Equal(HttpStatusCode.Gone, answer.StatusCode);
            Assert.Equal("sold-out", (await answer.ReadProblemAsync()).Code);
        }

        var redis = await RedisSnapshot.TakeAsync(fixture, campaign.Id, Shards);
        Assert.DoesNotContain(redis.ParsedTokens, t => t.Fields["u"] == buyer);
        Assert.Null(await MarkerAsync(campaign.Id, buyer));
        using var worker = fixture.CreateWorker(broker.Settings);
        await worker.StartAsync();
        await fixture.AssertDrainedAsync(campaign.Id, Shards, totalStock: 2);
        await worker.StopAsync();
    }

    [Fact]
    public async Task Another_key_or_none_during_the_search_is_refused_at_once()
    {
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var relay = SlowShardRelay();
        await using var searcher = fixture.StartIntake(ThroughRelay(broker, relay));
        await using var other = fixture.StartIntake(broker.Settings);
        relay.ReplyDelay = SlowReply;
        var (a, b) = (searcher.CreateClient(), other.CreateClient());
        var campaign = await fixture.CreateCampaignAsync(stock: 2, Shards);
        var buyer = await BuyerWithAnEmptyHomeShardAsync(b, campaign.Id);

        var first = a.BuyAsync(campaign.Id, buyer, "key-1");
        var hold = await AwaitSearchAsync(campaign.Id, buyer);
        var refused = await Task.WhenAll(b.BuyAsync(campaign.Id, buyer, "key-2"), b.BuyAsync(campaign.Id, buyer));
        // Answered while the search still holds the marker: nobody waited for a purchase that is not theirs.
        Assert.Equal(hold, await MarkerAsync(campaign.Id, buyer));

        foreach (var answer in refused)
        {
            Assert.Equal(HttpStatusCode.Conflict, answer.StatusCode);
            Assert.Equal("already-purchased", (await answer.ReadProblemAsync()).Code);
        }

        var reservation = await (await first).AcceptedReservationAsync();
        Assert.Equal(HttpStatusCode.Conflict, (await b.BuyAsync(campaign.Id, buyer, "key-2")).StatusCode);
        using var worker = fixture.CreateWorker(broker.Settings);
        await worker.StartAsync();
        await fixture.AssertDrainedAsync(campaign.Id, Shards, totalStock: 2);
        await worker.StopAsync();
        Assert.Equal(reservation, Assert.Single(await fixture.OrdersAsync(campaign.Id), o => o.Value.UserId == buyer).Key);
    }

    [Fact]
    public async Task After_reconciliation_restored_the_marker_gets_the_same_reservation()
    {
        await using var other = fixture.StartIntake();
        var client = fixture.AnonymousClient();
        var campaign = await fixture.CreateCampaignAsync(stock: 2, Shards);
        // An empty home shard puts the token on shard 1, away from the marker on shard 0.
        var buyer = await BuyerWithAnEmptyHomeShardAsync(client, campaign.Id);
        var key = $"key-{Guid.NewGuid():N}";
        var reservation = await (await client.BuyAsync(campaign.Id, buyer, key)).AcceptedReservationAsync();
        await fixture.AssertDrainedAsync(campaign.Id, Shards, totalStock: 2);
        // What a shard that lost its last second of writes leaves: the order and its token, no marker.
        Assert.True(await fixture.RedisForShard(0).KeyDeleteAsync(MarkerKey(campaign.Id, buyer)));

        var report = await (await fixture.AdminClient().PostAsync($"/api/campaigns/{campaign.Id}/reconciliation", null))
            .Content.ReadFromJsonAsync<ReconciliationJson>();

        Assert.Equal(1, report!.MarkersRestored);
        Assert.Equal($"{reservation:N}|{key}", await MarkerAsync(campaign.Id, buyer));
        foreach (var intake in new[] { client, other.CreateClient() })
        {
            Assert.Equal(reservation, await (await intake.BuyAsync(campaign.Id, buyer, key)).AcceptedReservationAsync());
            Assert.Equal(HttpStatusCode.Conflict, (await intake.BuyAsync(campaign.Id, buyer, "another-key")).StatusCode);
        }

        Assert.Single((await RedisSnapshot.TakeAsync(fixture, campaign.Id, Shards)).ParsedTokens, t => t.Fields["u"] == buyer);
        Assert.Equal(1, await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1 AND user_id = $2", campaign.Id, buyer));
    }

    /// <summary>A buyer homed on shard 0 after another buyer took shard 0's only unit: their purchase must search shard 1.</summary>
    private async Task<string> BuyerWithAnEmptyHomeShardAsync(HttpClient client, Guid campaignId)
    {
        var homedOnZero = Buying_when_the_home_shard_is_empty.BuyersHomedOn(0, Shards).Take(2).ToList();
        await (await client.BuyAsync(campaignId, homedOnZero[0])).AcceptedReservationAsync();
        Assert.Equal(0, await fixture.VirtualStockAsync(campaignId, 0));
        return homedOnZero[1];
    }

    /// <summary>The searcher's hold on the buyer's marker, once it is there.</summary>
    private async Task<string> AwaitSearchAsync(Guid campaignId, string buyer)
    {
        string? marker = null;
        Assert.True(await Waiting.UntilAsync(async () => (marker = await MarkerAsync(campaignId, buyer))?.StartsWith('~') == true, TimeSpan.FromSeconds(10)),
            $"the searcher never held the buyer's marker (it reads '{marker}')");
        return marker!;
    }

    private async Task<string?> MarkerAsync(Guid campaignId, string buyer) =>
        await fixture.RedisForShard(0).StringGetAsync(MarkerKey(campaignId, buyer));

    private static string MarkerKey(Guid campaignId, string buyer) => Stores.ShardKey(campaignId, 0, $"buyer:{buyer}");

    /// <summary>A relay in front of the endpoint holding shard 1 of a two-shard campaign.</summary>
    private TcpProxy SlowShardRelay() => new(EndpointPort(fixture.RedisEndpoints[EndpointOfShardOne]));

    /// <summary>The searcher's settings: the isolated broker, and shard 1's endpoint through the relay.</summary>
    private Dictionary<string, string?> ThroughRelay(IsolatedBroker broker, TcpProxy relay)
    {
        var endpoint = ConfigurationOptions.Parse(fixture.RedisEndpoints[EndpointOfShardOne]);
        endpoint.EndPoints.Clear();
        endpoint.EndPoints.Add(IPAddress.Loopback, relay.Port);
        return new Dictionary<string, string?>(broker.Settings)
        {
            [$"Seckill:Redis:Shards:{EndpointOfShardOne.ToString(CultureInfo.InvariantCulture)}"] = endpoint.ToString(includePassword: true),
        };
    }

    private int EndpointOfShardOne => 1 % fixture.RedisEndpointCount;

    private static int EndpointPort(string endpoint) => ConfigurationOptions.Parse(endpoint).EndPoints.Single() switch
    {
        DnsEndPoint dns => dns.Port,
        IPEndPoint ip => ip.Port,
        var other => throw new InvalidOperationException($"Cannot relay to Redis endpoint {other}."),
    };

    private sealed record ReconciliationJson(Guid CampaignId, bool Applied, int MarkersRestored);
}
