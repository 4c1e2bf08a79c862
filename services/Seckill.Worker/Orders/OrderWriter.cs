using MassTransit;
using Seckill.Contracts;
using Seckill.Inventory;
using Seckill.Worker.Stores;

namespace Seckill.Worker.Orders;

/// <summary>
/// Patent step S5 for a batch of accepted reservations: claim the tokens in Redis (one script call per shard), write the orders
/// and deduct the real inventory in one PostgreSQL transaction, confirm the tokens, and send every
/// reservation that got no order to compensation. Each step is idempotent, so a redelivered batch,
/// or a batch retried after an outage, ends exactly as if it had run once.
/// </summary>
public sealed partial class OrderWriter(
    ShardReservations reservations,
    OrderLedger ledger,
    OrderRateLimiter rate,
    StoreOutage outage,
    ILogger<OrderWriter> logger) : IConsumer<Batch<SeckillAccepted>>
{
    public async Task Consume(ConsumeContext<Batch<SeckillAccepted>> context)
    {
        var batch = context.Message.Select(m => m.Message).DistinctBy(m => m.ReservationId).ToList();
        await rate.AcquireAsync(batch.Count, context.CancellationToken);
        var returns = await outage.RunAsync(cancellationToken => WriteAsync(batch), context.CancellationToken);
        foreach (var refused in returns)
        {
            await context.Publish(refused, context.CancellationToken);
        }
    }

    private async Task<List<StockReturnRequested>> WriteAsync(List<SeckillAccepted> batch)
    {
        var claims = await reservations.ClaimAsync([.. batch.Select(a => new ClaimRequest(a.CampaignId, a.Shard, a.ReservationId, a.UserId, a.AcceptedAt))]);
        var toWrite = new List<SeckillAccepted>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            switch (claims[i].Verdict)
            {
                case ClaimVerdict.Claimed:
                    toWrite.Add(batch[i]);
                    break;
                case ClaimVerdict.Confirmed:
                    break;
                default:
                    // Failed by an undo (the buyer got 503) or by compensation, or aged out long after it
                    // ended: its unit is already back, so no order.
                    LogNotWritten(logger, batch[i].ReservationId, claims[i].Verdict);
                    break;
            }
        }

        var returns = new List<StockReturnRequested>();
        if (toWrite.Count == 0)
        {
            return returns;
        }

        var results = await ledger.WriteAsync(toWrite, CancellationToken.None);
        var confirmations = new List<Confirmation>(results.Count);
        foreach (var result in results)
        {
            var accepted = result.Accepted;
            if (result.OrderId is { } orderId)
            {
                confirmations.Add(new Confirmation(accepted.CampaignId, accepted.Shard, accepted.ReservationId, orderId));
            }
            else
            {
                returns.Add(new StockReturnRequested(accepted.ReservationId, accepted.CampaignId, accepted.UserId, accepted.Shard, result.Refusal!));
            }
        }

        await reservations.ConfirmAsync(confirmations);
        return returns;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reservation {ReservationId} is {Verdict}; no order is written for it")]
    private static partial void LogNotWritten(ILogger logger, Guid reservationId, ClaimVerdict verdict);
}
