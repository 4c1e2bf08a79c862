using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Seckill.IntegrationTests.Fixtures;
using Seckill.Inventory;

namespace Seckill.IntegrationTests.Purchases;

/// <summary>
/// The same key again gets the same answer only while that answer is still true: a reservation that
/// was never handed off is handed off by the replay, and a dead one is never answered with 202.
/// </summary>
public class Replaying_an_idempotency_key(PipelineFixture fixture)
{
    [Fact]
    public async Task Hands_off_a_reservation_whose_intake_died_before_publishing()
    {
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(stock: 2, shards: 2);
        await using var tap = await AcceptedTap.StartAsync(fixture, campaign.Id, broker.VirtualHost);
        var orphan = await ReserveWithoutPublishingAsync(intake, campaign, "retrying-buyer", "key-1");

        var replay = await intake.CreateClient().BuyAsync(campaign.Id, "retrying-buyer", "key-1");

        Assert.Equal(orphan.ReservationId, await replay.AcceptedReservationAsync());
        Assert.Equal([orphan.ReservationId], await tap.SettleAsync(1, TimeSpan.FromSeconds(10)));
        using var worker = fixture.CreateWorker(broker.Settings);
        await worker.StartAsync();
        await fixture.AssertDrainedAsync(campaign.Id, 2, totalStock: 2);
        await worker.StopAsync();
        Assert.Equal(1, await fixture.CountAsync("SELECT count(*) FROM orders WHERE reservation_id = $1", orphan.ReservationId));
    }

    [Fact]
    public async Task Returns_the_reservation_after_the_campaign_sold_out()
    {
        // A retry after the gateway's 502: the first attempt reserved the last unit, and by now the intake
        // answers the campaign sold out from memory. The key is owed its reservation, not 410.
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(stock: 1, shards: 2);
        var client = intake.CreateClient();
        var first = await client.BuyAsync(campaign.Id, "lucky-buyer", "key-3");
        var reservation = await first.AcceptedReservationAsync();
        var late = await client.BuyAsync(campaign.Id, "late-buyer", "key-4");
        Assert.Equal("sold-out", (await late.ReadProblemAsync()).Code);
        Assert.True(intake.Services.GetRequiredService<Seckill.Intake.Purchases.SoldOutFlags>().IsSoldOut(campaign.Id));

        var replay = await client.BuyAsync(campaign.Id, "lucky-buyer", "key-3");
        var stranger = await client.BuyAsync(campaign.Id, "another-buyer", "key-3");

        Assert.Equal(reservation, await replay.AcceptedReservationAsync());
        Assert.Equal("sold-out", (await stranger.ReadProblemAsync()).Code);
        using var worker = fixture.CreateWorker(broker.Settings);
        await worker.StartAsync();
        await fixture.AssertDrainedAsync(campaign.Id, 2, totalStock: 1);
        await worker.StopAsync();
        Assert.Equal(1, await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1 AND reservation_id = $2", campaign.Id, reservation));
    }

    [Fact]
    public async Task Reserves_anew_when_the_reservation_it_names_has_failed()
    {
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(stock: 1, shards: 1);
        var dead = await ReserveWithoutPublishingAsync(intake, campaign, "unlucky-buyer", "key-2");
        var reservations = intake.Services.GetRequiredService<ShardReservations>();
        Assert.Equal(TokenState.Failed, await reservations.UndoAsync(campaign.Id, dead.Shard, dead.ReservationId, "unlucky-buyer", "broker-unavailable"));
        // What a release whose marker could not be forgotten leaves behind: the marker still names the dead reservation.
        var marker = Stores.ShardKey(campaign.Id, 0, "buyer:unlucky-buyer");
        await fixture.RedisForShard(0).StringSetAsync(marker, $"{dead.ReservationId:N}|key-2");

        var replay = await intake.CreateClient().BuyAsync(campaign.Id, "unlucky-buyer", "key-2");

        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        var fresh = await replay.AcceptedReservationAsync();
        Assert.NotEqual(dead.ReservationId, fresh);
        Assert.Equal($"{fresh:N}|key-2", (string?)await fixture.RedisForShard(0).StringGetAsync(marker));
        using var worker = fixture.CreateWorker(broker.Settings);
        await worker.StartAsync();
        await fixture.AssertDrainedAsync(campaign.Id, 1, totalStock: 1);
        await worker.StopAsync();
        Assert.Equal(1, await fixture.CountAsync("SELECT count(*) FROM orders WHERE reservation_id = $1", fresh));
        Assert.Equal("failed", (await intake.CreateClient().ReservationAsync(dead.ReservationId, "unlucky-buyer"))!.Status);
    }

    [Fact]
    public async Task After_a_503_gets_a_new_reservation_not_the_undone_one()
    {
        await using var relay = new TcpProxy(int.Parse(fixture.Settings["Seckill:RabbitMq:Port"]!, System.Globalization.CultureInfo.InvariantCulture));
        await using var intake = fixture.CreateIntake(new Dictionary<string, string?>
        {
            ["Seckill:RabbitMq:Port"] = relay.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Seckill:Intake:PublishTimeout"] = "00:00:02",
        });
        var client = intake.CreateClient();
        var campaign = await fixture.CreateCampaignAsync(stock: 1, shards: 1);

        relay.Cut();
        var refused = await client.BuyAsync(campaign.Id, "steady-buyer", "key-3");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        var undone = Assert.Single((await RedisSnapshot.TakeAsync(fixture, campaign.Id, 1)).ParsedTokens);
        Assert.Equal("failed", undone.Fields["s"]);

        relay.Open();
        HttpResponseMessage replay;
        var attempts = 0;
        do
        {
            replay = await client.BuyAsync(campaign.Id, "steady-buyer", "key-3");
            attempts++;
        }
        while (replay.StatusCode == HttpStatusCode.ServiceUnavailable && attempts < 40 && await Delay());

        var accepted = await replay.AcceptedReservationAsync();
        Assert.DoesNotContain(accepted.ToString("N"), undone.Key);
        await fixture.AssertDrainedAsync(campaign.Id, 1, totalStock: 1);
        Assert.Equal(1, await fixture.CountAsync("SELECT count(*) FROM orders WHERE reservation_id = $1", accepted));
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(500);
        return true;
    }

    private async Task<ReserveOutcome.Reserved> ReserveWithoutPublishingAsync(
        Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> intake, CampaignJson campaign, string userId, string key)
    {
        var number = (int)await fixture.CountAsync("SELECT number FROM campaigns WHERE id = $1", campaign.Id);
        var reservations = intake.Services.GetRequiredService<ShardReservations>();
        return Assert.IsType<ReserveOutcome.Reserved>(
            await reservations.ReserveAsync(new CampaignShards(campaign.Id, number, campaign.Shards.Count), userId, key));
    }
}
