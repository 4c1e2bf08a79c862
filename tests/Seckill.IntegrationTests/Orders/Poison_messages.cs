using System.Text;
using RabbitMQ.Client;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Orders;

/// <summary>Nothing loops forever: a message that cannot be processed ends in <c>seckill-orders_error</c>, visible in the management UI.</summary>
public class Poison_messages(PipelineFixture fixture)
{
    [Fact]
    public async Task An_unreadable_message_is_moved_to_the_error_queue()
    {
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        await using (var connection = await ConnectAsync(broker))
        await using (var channel = await connection.CreateChannelAsync())
        {
            var properties = new BasicProperties { ContentType = "application/vnd.masstransit+json", Persistent = true };
            await channel.BasicPublishAsync("seckill-accepted", "", mandatory: true, properties, Encoding.UTF8.GetBytes("{ this is not json"));
        }

        using var worker = fixture.CreateWorker(broker.Settings);
        await worker.StartAsync();
        await WaitUntilAsync(async () => await broker.ReadyMessagesAsync("seckill-orders_error") == 1);
        // The dead-letter releaser gets its copy and cannot read it either: it parks it in its own
        // error queue rather than looping on it.
        await WaitUntilAsync(async () => await broker.ReadyMessagesAsync("seckill-orders-dead-letters_error") == 1);
        await worker.StopAsync();

        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders"));
        Assert.Equal(1u, await broker.ReadyMessagesAsync("seckill-orders_error"));
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders-dead-letters"));
        Assert.Equal(1u, await broker.ReadyMessagesAsync("seckill-orders-dead-letters_error"));
    }

    [Fact]
    public async Task A_message_redelivered_past_the_delivery_limit_is_dead_lettered_not_dropped()
    {
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        await using var connection = await ConnectAsync(broker);
        await using var channel = await connection.CreateChannelAsync();
        await channel.BasicPublishAsync("seckill-accepted", "", mandatory: true, new BasicProperties { Persistent = true }, Encoding.UTF8.GetBytes("{}"));

        await WaitUntilAsync(async () => await broker.ReadyMessagesAsync("seckill-orders") == 1);

        // A consumer that crashes on the message every time: the broker hands it back, again and again,
        // until it has been delivered more often than the limit and is dead-lettered.
        var deliveries = 0;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && await broker.ReadyMessagesAsync("seckill-orders_error") == 0)
        {
            var delivery = await channel.BasicGetAsync("seckill-orders", autoAck: false);
            if (delivery is null)
            {
                await Task.Delay(50);
                continue;
            }

            deliveries++;
            await channel.BasicRejectAsync(delivery.DeliveryTag, requeue: true);
        }

        await WaitUntilAsync(async () => await broker.ReadyMessagesAsync("seckill-orders_error") == 1);
        Assert.InRange(deliveries, 2, 12);
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders"));
        // The copy for the dead-letter releaser waits for a worker (none runs here).
        Assert.Equal(1u, await broker.ReadyMessagesAsync("seckill-orders-dead-letters"));
    }

    private Task<IConnection> ConnectAsync(IsolatedBroker broker) => fixture.ConnectToBrokerAsync(broker.VirtualHost);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (var attempt = 0; attempt < 200 && !await condition(); attempt++)
        {
            await Task.Delay(100);
        }
    }
}
