using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Seckill.Contracts;
using Seckill.IntegrationTests.Fixtures;
using Seckill.Inventory;
using Seckill.Worker.Sweeping;

namespace Seckill.IntegrationTests.Faults;

/// <summary>
/// An intake that dies between reserving and publishing is the intake's own reservation code
/// called without the publish that follows it: the token stays reserved and no message exists.
/// </summary>
public class Reserving_without_publishing(PipelineFixture fixture)
{
    [Fact]
    public async Task The_sweeper_publishes_it_and_it_becomes_an_order()
    {
        const int shards = 2;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(stock: 2, shards);
        await using var tap = await AcceptedTap.StartAsync(fixture, campaign.Id, broker.VirtualHost);
        var orphan = await ReserveWithoutPublishingAsync(intake, campaign, shards, "ghost");

        using var worker = fixture.CreateWorker(QuickSweeper.With(broker.Settings), new SweptCampaign(campaign.Id, shards));
        await worker.StartAsync();
        var redis = await fixture.AssertDrainedAsync(campaign.Id, shards, totalStock: 2);
        await worker.StopAsync();

        Assert.Equal([orphan.ReservationId], await tap.SettleAsync(1, TimeSpan.FromSeconds(10)));
        Assert.Equal(1, await fixture.CountAsync("SELECT count(*) FROM orders WHERE reservation_id = $1", orphan.ReservationId));
        Assert.Equal(1, redis.TotalStock);
        Assert.Equal("awaiting-payment", (await intake.CreateClient().ReservationAsync(orphan.ReservationId, "ghost"))!.Status);
    }

    /// <summary>The sweeper's own campaign selection, not a list the test hands it: age is no reason to skip a campaign.</summary>
    [Fact]
    public async Task A_campaign_created_sixty_days_before_its_sale_is_still_swept()
    {
        const int shards = 2;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(stock: 2, shards);
        Assert.Equal(1, await fixture.CountAsync(
            "WITH moved AS (UPDATE campaigns SET created_at = now() - interval '60 days' WHERE id = $1 RETURNING 1) SELECT count(*) FROM moved", campaign.Id));
        var orphan = await ReserveWithoutPublishingAsync(intake, campaign, shards, "old-campaign");

        using var worker = fixture.CreateWorkerScopedTo(QuickSweeper.With(broker.Settings), campaign.Id);
        await worker.StartAsync();
        await fixture.AssertDrainedAsync(campaign.Id, shards, totalStock: 2);
        await worker.StopAsync();

        Assert.Equal(1, await fixture.CountAsync("SELECT count(*) FROM orders WHERE reservation_id = $1", orphan.ReservationId));
        Assert.Equal("awaiting-payment", (await intake.CreateClient().ReservationAsync(orphan.ReservationId, "old-campaign"))!.Status);
    }

    [Fact]
    public async Task The_sweeper_never_publishes_a_reservation_the_broker_already_has()
    {
        const int shards = 2, stock = 6;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(stock, shards);
        await using var tap = await AcceptedTap.StartAsync(fixture, campaign.Id, broker.VirtualHost);
        var client = intake.CreateClient();
        var accepted = new List<Guid>();
        for (var i = 0; i < stock; i++)
        {
            accepted.Add(await (await client.BuyAsync(campaign.Id, $"queued-{i}")).AcceptedReservationAsync());
        }

        // Every message waits in the queue with no worker, far past the sweeper's timeout.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var states = (await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards)).ParsedTokens.Select(t => t.Fields["s"]).ToList();
        Assert.All(states, state => Assert.Equal("queued", state));

        using var worker = fixture.CreateWorker(QuickSweeper.With(broker.Settings), new SweptCampaign(campaign.Id, shards));
        var sweeper = worker.Services.GetRequiredService<UnsentReservationSweeper>();
        await worker.StartAsync();
        Assert.Equal(0, await sweeper.SweepCampaignAsync(campaign.Id, shards, CancellationToken.None));
        await fixture.AssertDrainedAsync(campaign.Id, shards, stock);
        await worker.StopAsync();

        Assert.Equal(accepted.Order(), (await tap.SettleAsync(stock, TimeSpan.FromSeconds(10))).Order());
        Assert.Equal(stock, await fixture.CountAsync("SELECT count(*) FROM orders WHERE reservation_id = ANY($1)", accepted.ToArray()));
    }

    [Fact]
    public async Task A_late_message_after_the_sweeper_published_it_writes_one_order()
    {
        const int shards = 1;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(stock: 1, shards);
        var orphan = await ReserveWithoutPublishingAsync(intake, campaign, shards, "late");

        using var worker = fixture.CreateWorker(QuickSweeper.With(broker.Settings), new SweptCampaign(campaign.Id, shards));
        await worker.StartAsync();
        await fixture.AssertDrainedAsync(campaign.Id, shards, totalStock: 1);

        // The intake that never published was only slow: its message arrives after all.
        await intake.Services.GetRequiredService<IBus>().Publish(
            new SeckillAccepted(orphan.ReservationId, campaign.Id, "late", orphan.Shard, orphan.AcceptedAt));
        Assert.True(await Waiting.UntilAsync(async () => await broker.ReadyMessagesAsync("seckill-orders") == 0, TimeSpan.FromSeconds(30)));
        await Task.Delay(500);
        await worker.StopAsync();

        Assert.Equal(1, await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1", campaign.Id));
        await fixture.AssertDrainedAsync(campaign.Id, shards, totalStock: 1);
    }

    /// <summary>What an intake does for a purchase up to, and not including, the publish.</summary>
    private async Task<ReserveOutcome.Reserved> ReserveWithoutPublishingAsync(
        Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> intake, CampaignJson campaign, int shards, string userId)
    {
        var number = (int)await fixture.CountAsync("SELECT number FROM campaigns WHERE id = $1", campaign.Id);
        var reservations = intake.Services.GetRequiredService<ShardReservations>();
        return Assert.IsType<ReserveOutcome.Reserved>(await reservations.ReserveAsync(new CampaignShards(campaign.Id, number, shards), userId, null));
    }
}
