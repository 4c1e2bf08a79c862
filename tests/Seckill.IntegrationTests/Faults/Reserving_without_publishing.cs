using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Seckill.Contracts;
using Seckill.IntegrationTests.Fixtures;
using Seckill.Inventory;
using Seckill.Worker.Sweeping;

namespace Seckill.IntegrationTests.Faults;

/// <summary>
/// An intake that dies between reserving and publishing is the intake's own reservation code
/// called without the publish that follows it: the token stays pending and nobody will ever write it.
/// </summary>
public class Reserving_without_publishing(PipelineFixture fixture)
{
    private static readonly Dictionary<string, string?> QuickSweeper = new()
    {
        ["Seckill:Sweeper:Enabled"] = "false",
        ["Seckill:Sweeper:PendingTimeout"] = "00:00:02",
    };

    [Fact]
    public async Task The_sweeper_returns_the_unit_and_a_late_message_writes_no_order()
    {
        const int shards = 2;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.CreateIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(stock: 2, shards);
        using var worker = fixture.CreateWorker(fixture.With(broker.Settings).Concat(QuickSweeper).ToDictionary());
        await worker.StartAsync();
        var sweeper = worker.Services.GetRequiredService<PendingReservationSweeper>();
        var reserved = System.Diagnostics.Stopwatch.StartNew();
        var orphan = await ReserveWithoutPublishingAsync(intake, campaign, shards, "ghost");

        // Not yet overdue (a slow machine could stretch this past the 2 s timeout, hence the guard).
        var early = await sweeper.SweepCampaignAsync(campaign.Id, shards, CancellationToken.None);
        if (reserved.Elapsed < TimeSpan.FromSeconds(1.5))
        {
            Assert.Equal(0, early);
        }

        Assert.Equal(early == 0 ? 1 : 2, (await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards)).TotalStock);

        await Task.Delay(TimeSpan.FromSeconds(2.2));
        Assert.Equal(early == 0 ? 1 : 0, await sweeper.SweepCampaignAsync(campaign.Id, shards, CancellationToken.None));

        var swept = await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards);
        Assert.Equal(2, swept.TotalStock);
        Assert.Equal("expired", swept.ParsedTokens.Single().Fields["s"]);
        Assert.Empty(swept.Markers);
        Assert.Equal("expired", (await fixture.AnonymousClient().ReservationAsync(orphan.ReservationId, "ghost"))!.Status);

        // The message that was never sent arrives after all.
        await intake.Services.GetRequiredService<IBus>().Publish(
            new SeckillAccepted(orphan.ReservationId, campaign.Id, "ghost", orphan.Shard, orphan.AcceptedAt));
        Assert.True(await Waiting.UntilAsync(async () => await broker.ReadyMessagesAsync("seckill-orders") == 0, TimeSpan.FromSeconds(30)));
        await worker.StopAsync();

        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders"));
        Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1", campaign.Id));
        var after = await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards);
        Assert.Equal(2, after.TotalStock);
        Assert.Equal("expired", after.ParsedTokens.Single().Fields["s"]);

        // The freed buyer can buy again.
        await (await intake.CreateClient().BuyAsync(campaign.Id, "ghost")).AcceptedReservationAsync();
    }

    [Fact]
    public async Task The_sweeper_never_expires_a_token_a_worker_claimed()
    {
        const int shards = 1;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.CreateIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(stock: 1, shards);
        var held = await ReserveWithoutPublishingAsync(intake, campaign, shards, "slow-writer");
        var reservations = intake.Services.GetRequiredService<ShardReservations>();
        Assert.Equal("claimed", (await reservations.ClaimAsync(campaign.Id, held.Shard, held.ReservationId, "slow-writer", held.AcceptedAt)).State);

        using var worker = fixture.CreateWorker(fixture.With(broker.Settings).Concat(QuickSweeper).ToDictionary());
        await worker.StartAsync();
        await Task.Delay(TimeSpan.FromSeconds(2.2));
        Assert.Equal(0, await worker.Services.GetRequiredService<PendingReservationSweeper>().SweepCampaignAsync(campaign.Id, shards, CancellationToken.None));
        await worker.StopAsync();

        var redis = await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards);
        Assert.Equal(0, redis.TotalStock);
        Assert.Equal("claimed", redis.ParsedTokens.Single().Fields["s"]);
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
