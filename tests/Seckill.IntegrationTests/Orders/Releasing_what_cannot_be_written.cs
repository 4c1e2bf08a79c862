using System.Diagnostics;
using System.Text.Json;
using RabbitMQ.Client;
using Seckill.IntegrationTests.Fixtures;
using Seckill.Inventory;

namespace Seckill.IntegrationTests.Orders;

/// <summary>
/// A reservation whose order will never be written — PostgreSQL refuses its row, or its message ends
/// in <c>seckill-orders_error</c> — is released within seconds of the fault: token failed with the
/// reason, the refusal recorded in PostgreSQL, the unit back on its shard, the buyer free to buy again.
/// Each test runs on a broker of its own, so the only consumer of its messages is the one it starts.
/// </summary>
public class Releasing_what_cannot_be_written(PipelineFixture fixture)
{
    /// <summary>
    /// Dead-lettering takes the three retries (~1.6 s) and the releaser acts within seconds; a
    /// reservation still open after this long is held until an operator notices.
    /// </summary>
    private static readonly TimeSpan ReleaseBound = TimeSpan.FromSeconds(30);

    private const string ErrorQueue = "seckill-orders_error";
    private const string DeadLettersQueue = "seckill-orders-dead-letters";

    [Fact]
    public async Task A_one_message_batch_PostgreSQL_refuses_ends_write_failed_and_its_buyer_is_free_again()
    {
        await fixture.InstallRejectTriggerAsync();
        const int shards = 2, stock = 3;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(stock, shards);
        var initial = await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards);
        using var worker = fixture.CreateWorker(new Dictionary<string, string?>(broker.Settings) { ["Seckill:Worker:BatchSize"] = "1" });
        await worker.StartAsync();
        var client = intake.CreateClient();
        var refused = $"{RejectedOrders.BuyerPrefix}{Guid.NewGuid():N}";

        var first = await (await client.BuyAsync(campaign.Id, refused)).AcceptedReservationAsync();
        await AssertReleasedAsync(campaign.Id, shards, first, refused, "write-failed", Stopwatch.StartNew());
        Assert.Equal(initial.Stock, (await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards)).Stock);

        // Free again: a second purchase is accepted as a new reservation, not answered "already purchased"
        // — and PostgreSQL refuses it the same way, so it is released the same way.
        var second = await (await client.BuyAsync(campaign.Id, refused)).AcceptedReservationAsync();
        Assert.NotEqual(first, second);
        await AssertReleasedAsync(campaign.Id, shards, second, refused, "write-failed", Stopwatch.StartNew());

        // The worker writes the orders it can: a buyer PostgreSQL accepts is confirmed with its order.
        var fine = $"fine-{Guid.NewGuid():N}";
        var bought = await (await client.BuyAsync(campaign.Id, fine)).AcceptedReservationAsync();
        await AssertConfirmedAsync(client, campaign.Id, shards, bought, fine);

        var redis = await fixture.AssertDrainedAsync(campaign.Id, shards, stock);
        await worker.StopAsync();

        Assert.Equal(stock - 1, redis.TotalStock);
        Assert.Equal(1, await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1", campaign.Id));
        Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1 AND user_id = $2", campaign.Id, refused));
        Assert.Equal(2, await fixture.CountAsync("SELECT count(*) FROM released_reservations WHERE campaign_id = $1", campaign.Id));
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders"));
        Assert.Equal(0u, await broker.ReadyMessagesAsync(ErrorQueue));
        Assert.Equal(0u, await broker.ReadyMessagesAsync(DeadLettersQueue));
    }

    [Fact]
    public async Task A_message_dead_lettered_past_the_delivery_limit_is_released_and_its_buyer_buys_again()
    {
        const int shards = 2, stock = 2;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(stock, shards);
        var initial = await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards);
        var client = intake.CreateClient();
        var buyer = $"looping-{Guid.NewGuid():N}";
        var looping = await (await client.BuyAsync(campaign.Id, buyer)).AcceptedReservationAsync();

        var deadLettered = await LoopUntilDeadLetteredAsync(broker);
        Assert.Equal(looping, await PeekErrorReservationAsync(broker));
        // Nothing has released it yet: the releaser is the worker started next.
        Assert.Equal("queued", (await TokenAsync(campaign.Id, looping))["s"]);
        Assert.Equal(1u, await broker.ReadyMessagesAsync(DeadLettersQueue));

        using var worker = fixture.CreateWorker(broker.Settings);
        await worker.StartAsync();
        await AssertReleasedAsync(campaign.Id, shards, looping, buyer, "dead-lettered", deadLettered);
        Assert.Equal(initial.Stock, (await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards)).Stock);
        Assert.True(await Waiting.UntilAsync(async () => await broker.ReadyMessagesAsync(DeadLettersQueue) == 0, ReleaseBound));

        var again = await (await client.BuyAsync(campaign.Id, buyer)).AcceptedReservationAsync();
        Assert.NotEqual(looping, again);
        var orderId = await AssertConfirmedAsync(client, campaign.Id, shards, again, buyer);

        var redis = await fixture.AssertDrainedAsync(campaign.Id, shards, stock);
        await worker.StopAsync();

        Assert.Equal(stock - 1, redis.TotalStock);
        Assert.Equal(1, await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1", campaign.Id));
        Assert.Equal(1, await fixture.CountAsync("SELECT count(*) FROM orders WHERE id = $1 AND reservation_id = $2 AND user_id = $3", orderId, again, buyer));
        Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM orders WHERE reservation_id = $1", looping));
        Assert.Equal(1, await fixture.CountAsync("SELECT count(*) FROM released_reservations WHERE campaign_id = $1", campaign.Id));
        // The operator's copy stays where the UI shows it; the releaser's copy is consumed, not looping.
        Assert.Equal(1u, await broker.ReadyMessagesAsync(ErrorQueue));
        Assert.Equal(0u, await broker.ReadyMessagesAsync(DeadLettersQueue));
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders"));
    }

    [Fact]
    public async Task A_released_message_an_operator_moves_back_from_the_error_queue_writes_nothing()
    {
        const int shards = 2, stock = 2;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(stock, shards);
        var buyer = $"moved-back-{Guid.NewGuid():N}";
        var reservation = await (await intake.CreateClient().BuyAsync(campaign.Id, buyer)).AcceptedReservationAsync();
        var deadLettered = await LoopUntilDeadLetteredAsync(broker);
        using (var releasing = fixture.CreateWorker(broker.Settings))
        {
            await releasing.StartAsync();
            await AssertReleasedAsync(campaign.Id, shards, reservation, buyer, "dead-lettered", deadLettered);
            Assert.True(await Waiting.UntilAsync(async () => await broker.ReadyMessagesAsync(DeadLettersQueue) == 0, ReleaseBound));
            await releasing.StopAsync();
        }

        var released = await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards);

        // What the management UI's "move messages" (a shovel) does: the same body and headers, back
        // into the exchange the intake publishes to.
        await using (var connection = await fixture.ConnectToBrokerAsync(broker.VirtualHost))
        await using (var channel = await connection.CreateChannelAsync())
        {
            var copy = await channel.BasicGetAsync(ErrorQueue, autoAck: false);
            Assert.NotNull(copy);
            Assert.Equal(reservation, ReservationOf(copy.Body));
            await channel.BasicPublishAsync("seckill-accepted", "", mandatory: true, new BasicProperties(copy.BasicProperties), copy.Body);
            await channel.BasicAckAsync(copy.DeliveryTag, multiple: false);
        }

        Assert.True(await Waiting.UntilAsync(async () => await broker.ReadyMessagesAsync("seckill-orders") == 1, TimeSpan.FromSeconds(10)));
        using var worker = fixture.CreateWorker(broker.Settings);
        await worker.StartAsync();
        Assert.True(await Waiting.UntilAsync(
            async () => await broker.ReadyMessagesAsync("seckill-orders") == 0 && await broker.ReadyMessagesAsync("seckill-stock-returns") == 0,
            ReleaseBound));
        // Room for anything the message set off (a compensation) to run before the worker stops;
        // stopping waits for the consumers in flight and hands back any message not acknowledged.
        await Task.Delay(TimeSpan.FromSeconds(1));
        await worker.StopAsync();
        var redis = await fixture.AssertDrainedAsync(campaign.Id, shards, stock);

        Assert.True(redis.SameAs(released), "the moved-back message changed the campaign's Redis state");
        Assert.Equal(stock, redis.TotalStock);
        Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1", campaign.Id));
        Assert.Equal(1, await fixture.CountAsync(
            "SELECT count(*) FROM released_reservations WHERE campaign_id = $1 AND reservation_id = $2 AND reason = 'dead-lettered'", campaign.Id, reservation));
        Assert.Equal(1, await fixture.CountAsync("SELECT count(*) FROM released_reservations WHERE campaign_id = $1", campaign.Id));
        Assert.Equal("dead-lettered", (await intake.CreateClient().ReservationAsync(reservation, buyer))!.Reason);
        // Taken and acknowledged, not handed back, and not failed into the error queue again.
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders"));
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-stock-returns"));
        Assert.Equal(0u, await broker.ReadyMessagesAsync(ErrorQueue));
        Assert.Equal(0u, await broker.ReadyMessagesAsync(DeadLettersQueue));
    }

    /// <summary>
    /// A consumer that crashes on the message every time: the broker hands it back until it has been
    /// delivered more often than the limit, then dead-letters it. Returns a clock started at that moment.
    /// </summary>
    private async Task<Stopwatch> LoopUntilDeadLetteredAsync(IsolatedBroker broker)
    {
        await using var connection = await fixture.ConnectToBrokerAsync(broker.VirtualHost);
        await using var channel = await connection.CreateChannelAsync();
        var deliveries = 0;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && await channel.MessageCountAsync(ErrorQueue) == 0)
        {
            var delivery = await channel.BasicGetAsync("seckill-orders", autoAck: false);
            if (delivery is null)
            {
                await Task.Delay(20);
                continue;
            }

            deliveries++;
            await channel.BasicRejectAsync(delivery.DeliveryTag, requeue: true);
        }

        var deadLettered = Stopwatch.StartNew();
        Assert.Equal(1u, await channel.MessageCountAsync(ErrorQueue));
        Assert.Equal(0u, await channel.MessageCountAsync("seckill-orders"));
        Assert.InRange(deliveries, Seckill.Messaging.SeckillTopology.DeliveryLimit, Seckill.Messaging.SeckillTopology.DeliveryLimit + 1);
        return deadLettered;
    }

    /// <summary>The reservation named by the message at the head of the error queue, which is put back.</summary>
    private async Task<Guid> PeekErrorReservationAsync(IsolatedBroker broker)
    {
        await using var connection = await fixture.ConnectToBrokerAsync(broker.VirtualHost);
        await using var channel = await connection.CreateChannelAsync();
        var copy = await channel.BasicGetAsync(ErrorQueue, autoAck: false);
        Assert.NotNull(copy);
        var reservation = ReservationOf(copy.Body);
        await channel.BasicNackAsync(copy.DeliveryTag, multiple: false, requeue: true);
        return reservation;
    }

    /// <summary>The one purchase a message carries, in either form: alone, or as the only one of a group commit.</summary>
    private static Guid ReservationOf(ReadOnlyMemory<byte> body)
    {
        using var envelope = JsonDocument.Parse(body);
        var message = envelope.RootElement.GetProperty("message");
        var purchase = message.TryGetProperty("purchases", out var many) ? Assert.Single(many.EnumerateArray().ToList()) : message;
        return purchase.GetProperty("reservationId").GetGuid();
    }

    /// <summary>
    /// The reservation is final within <see cref="ReleaseBound"/> of <paramref name="sinceFault"/>: failed with
    /// <paramref name="reason"/> in Redis, in the API and in PostgreSQL's one verdict, no order, the buyer's marker gone.
    /// </summary>
    private async Task AssertReleasedAsync(Guid campaignId, int shards, Guid reservation, string buyer, string reason, Stopwatch sinceFault)
    {
        var final = await Waiting.UntilAsync(async () => (await TokenAsync(campaignId, reservation)).GetValueOrDefault("s") is "failed" or "confirmed", ReleaseBound - sinceFault.Elapsed);
        Assert.True(final, $"reservation {reservation} was still {(await TokenAsync(campaignId, reservation)).GetValueOrDefault("s") ?? "missing"} {sinceFault.Elapsed} after the fault");
        var token = await TokenAsync(campaignId, reservation);
        Assert.Equal("failed", token["s"]);
        Assert.Equal(reason, token["r"]);
        Assert.Equal(buyer, token["u"]);
        var answer = await fixture.AnonymousClient().ReservationAsync(reservation, buyer);
        Assert.Equal("failed", answer!.Status);
        Assert.Equal(reason, answer.Reason);
        Assert.Null(answer.OrderId);
        Assert.Equal(1, await fixture.CountAsync(
            "SELECT count(*) FROM released_reservations WHERE reservation_id = $1 AND campaign_id = $2 AND reason = $3", reservation, campaignId, reason));
        Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM orders WHERE reservation_id = $1", reservation));
        var redis = await RedisSnapshot.TakeAsync(fixture, campaignId, shards);
        Assert.DoesNotContain(redis.Markers.Keys, key => key.EndsWith($":buyer:{buyer}", StringComparison.Ordinal));
        Assert.Equal(0, await PendingAsync(campaignId, shards));
    }

    /// <summary>Confirmed within <see cref="ReleaseBound"/>, with the order PostgreSQL holds for it.</summary>
    private async Task<Guid> AssertConfirmedAsync(HttpClient client, Guid campaignId, int shards, Guid reservation, string buyer)
    {
        Assert.True(await Waiting.UntilAsync(async () => (await TokenAsync(campaignId, reservation)).GetValueOrDefault("s") is "failed" or "confirmed", ReleaseBound));
        var answer = await client.ReservationAsync(reservation, buyer);
        Assert.Equal("awaiting-payment", answer!.Status);
        var orderId = Assert.IsType<Guid>(answer.OrderId);
        Assert.Equal(orderId.ToString("D"), (await TokenAsync(campaignId, reservation))["o"]);
        Assert.Equal(1, await fixture.CountAsync("SELECT count(*) FROM orders WHERE id = $1 AND reservation_id = $2", orderId, reservation));
        Assert.Equal(0, await PendingAsync(campaignId, shards));
        return orderId;
    }

    private async Task<Dictionary<string, string>> TokenAsync(Guid campaignId, Guid reservation)
    {
        Assert.True(ReservationIds.TryDecode(reservation, out _, out var shard));
        var fields = await fixture.RedisForShard(shard).HashGetAllAsync(Stores.ShardKey(campaignId, shard, $"token:{reservation:N}"));
        return fields.ToDictionary(f => (string)f.Name!, f => (string?)f.Value ?? "");
    }

    private async Task<long> PendingAsync(Guid campaignId, int shards)
    {
        long open = 0;
        for (var shard = 0; shard < shards; shard++)
        {
            open += (long?)await fixture.RedisForShard(shard).StringGetAsync(Stores.ShardKey(campaignId, shard, "pending")) ?? 0;
        }

        return open;
    }
}
