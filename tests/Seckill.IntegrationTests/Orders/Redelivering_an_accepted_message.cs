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

    private static async Task WaitForEmptyAsync(IsolatedBroker broker)
    {
        for (var attempt = 0; attempt < 100 && await broker.ReadyMessagesAsync("seckill-orders") > 0; attempt++)
        {
            await Task.Delay(100);
        }

        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders"));
    }
}
