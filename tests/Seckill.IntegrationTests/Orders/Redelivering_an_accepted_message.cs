using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Seckill.Contracts;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Orders;

public class Redelivering_an_accepted_message(PipelineFixture fixture)
{
    [Fact]
    public async Task Writes_one_order_and_deducts_one_unit()
    {
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.CreateIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(stock: 5, shards: 2);
        var reservationId = await (await intake.CreateClient().BuyAsync(campaign.Id, "twice-delivered")).AcceptedReservationAsync();
        var token = (await RedisSnapshot.TakeAsync(fixture, campaign.Id, 2)).ParsedTokens.Single();
        var shard = int.Parse(token.Key.Split(':')[2].TrimEnd('}'), System.Globalization.CultureInfo.InvariantCulture);

        // The same message a second time, as a redelivery after a lost acknowledgement would bring it.
        var bus = intake.Services.GetRequiredService<IBus>();
        await bus.Publish(new SeckillAccepted(reservationId, campaign.Id, "twice-delivered", shard,
            DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(token.Fields["at"], System.Globalization.CultureInfo.InvariantCulture))));
        Assert.Equal(2u, await broker.ReadyMessagesAsync("seckill-orders"));

        using var worker = fixture.CreateWorker(broker.Settings);
        await worker.StartAsync();
        await fixture.AssertDrainedAsync(campaign.Id, 2, 5);
        await WaitForEmptyAsync(broker);
        await worker.StopAsync();

        // Both deliveries were consumed and acknowledged: none came back to the queue on stop.
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders"));
        Assert.Equal(1, await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1", campaign.Id));
        Assert.Equal(1, await fixture.CountAsync("SELECT sold FROM campaigns WHERE id = $1", campaign.Id));
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders_error"));
    }

    [Fact]
    public async Task Writes_nothing_for_a_reservation_whose_ended_token_aged_out()
    {
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(stock: 1, shards: 1);
        var number = (int)await fixture.CountAsync("SELECT number FROM campaigns WHERE id = $1", campaign.Id);
        var reservations = intake.Services.GetRequiredService<Seckill.Inventory.ShardReservations>();
        // Accepted three minutes ago (the clock of the lifetime), undone with its unit back, and aged out since.
        var undone = Assert.IsType<Seckill.Inventory.ReserveOutcome.Reserved>(
            await reservations.ReserveAsync(new Seckill.Inventory.CampaignShards(campaign.Id, number, 1), "long-gone", null));
        Assert.Equal(Seckill.Inventory.TokenState.Failed, await reservations.UndoAsync(campaign.Id, 0, undone.ReservationId, "long-gone", "broker-unavailable"));
        var token = Stores.ShardKey(campaign.Id, 0, $"token:{undone.ReservationId:N}");
        Assert.True(await fixture.RedisForShard(0).KeyDeleteAsync(token));
        var before = await RedisSnapshot.TakeAsync(fixture, campaign.Id, 1);
        Assert.Equal(1, before.TotalStock);

        // Its message turns up after all, later than the (shortened) lifetime of an ended token.
        await intake.Services.GetRequiredService<IBus>().Publish(
            new SeckillAccepted(undone.ReservationId, campaign.Id, "long-gone", 0, DateTimeOffset.UtcNow.AddMinutes(-3)));
        using var worker = fixture.CreateWorker(new Dictionary<string, string?>(broker.Settings)
        {
            ["Seckill:Reservations:EndedTokenLifetime"] = "00:01:00",
        });
        await worker.StartAsync();
        await WaitForEmptyAsync(broker);
        await Task.Delay(500);
        await worker.StopAsync();

        // Not re-created as a lost token: no order, the unit is not returned or sold a second time.
        Assert.False(await fixture.RedisForShard(0).KeyExistsAsync(token));
        Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1", campaign.Id));
        Assert.True((await RedisSnapshot.TakeAsync(fixture, campaign.Id, 1)).SameAs(before));
        Assert.Equal(0L, (long?)await fixture.RedisForShard(0).StringGetAsync(Stores.ShardKey(campaign.Id, 0, "pending")) ?? 0);
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders_error"));
        await fixture.AssertDrainedAsync(campaign.Id, 1, totalStock: 1, tokensSurvived: false);
    }

    private static async Task WaitForEmptyAsync(IsolatedBroker broker)
    {
        for (var attempt = 0; attempt < 100 && await broker.ReadyMessagesAsync("seckill-orders") > 0; attempt++)
        {
            await Task.Delay(100);
        }

        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders"));
    }
}
