using MassTransit;
using Seckill.Contracts;
using Seckill.Inventory;
using Seckill.Worker.Orders;
using Seckill.Worker.Stores;

namespace Seckill.Worker.DeadLetters;

/// <summary>
/// Every <see cref="SeckillAccepted"/> that ends in <c>seckill-orders_error</c> — poison, past the
/// delivery limit, or failing after its retries — is copied to this consumer's queue, so its
/// reservation reaches a final state instead of holding a unit and its buyer forever: the order if
/// one was written after all, otherwise a recorded refusal (<c>dead-lettered</c>) with the unit back
/// and the buyer freed. The copy in <c>_error</c> stays for the operator; moved back into
/// <c>seckill-orders</c>, it finds the reservation decided and writes nothing.
/// </summary>
public sealed partial class DeadLetterReleaser(
    ShardReservations reservations,
    OrderLedger ledger,
    StoreOutage outage,
    ILogger<DeadLetterReleaser> logger) : IConsumer<SeckillAccepted>
{
    public async Task Consume(ConsumeContext<SeckillAccepted> context)
    {
        var accepted = context.Message;
        if (accepted.ReservationId == Guid.Empty || accepted.CampaignId == Guid.Empty || string.IsNullOrEmpty(accepted.UserId) || accepted.Shard < 0)
        {
            // Names no reservation: nothing is held for it anywhere.
            LogUnreadable(logger, context.MessageId);
            return;
        }

        var outcome = await outage.RunAsync(cancellationToken => ReleaseAsync(accepted, cancellationToken), context.CancellationToken);
        LogReleased(logger, accepted.ReservationId, outcome);
    }

    private async Task<string> ReleaseAsync(SeckillAccepted accepted, CancellationToken cancellationToken)
    {
        var token = await reservations.ReadTokenAsync(accepted.CampaignId, accepted.Shard, accepted.ReservationId);
        if (token is { State: TokenState.Confirmed or TokenState.Failed })
        {
            return $"already {token.State.ToStored()}";
        }

        var verdict = await ledger.ReleaseAsync(accepted, StockReturnReasons.DeadLettered, cancellationToken);
        if (verdict.OrderId is { } orderId)
        {
            await reservations.ConfirmAsync([new Confirmation(accepted.CampaignId, accepted.Shard, accepted.ReservationId, orderId)]);
            return "confirmed with its order";
        }

        var released = await reservations.ReturnAsync(accepted.CampaignId, accepted.Shard, accepted.ReservationId, accepted.UserId,
            verdict.Refusal!, returnUnit: StockReturnReasons.ReturnsUnit(verdict.Refusal!));
        return $"{verdict.Refusal}: {released}";
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead-lettered reservation {ReservationId}: {Outcome}")]
    private static partial void LogReleased(ILogger logger, Guid reservationId, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead-lettered message {MessageId} names no reservation; nothing to release")]
    private static partial void LogUnreadable(ILogger logger, Guid? messageId);
}
