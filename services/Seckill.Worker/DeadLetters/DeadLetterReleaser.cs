using MassTransit;
using Seckill.Contracts;
using Seckill.Inventory;
using Seckill.Worker.Orders;
using Seckill.Worker.Stores;
using Seckill.Observability;

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
    SeckillMetrics metrics,
    ILogger<DeadLetterReleaser> logger) : IConsumer<SeckillAccepted>, IConsumer<SeckillAcceptedBatch>
{
    public Task Consume(ConsumeContext<SeckillAccepted> context) => ReleaseAllAsync([context.Message], context);

    public Task Consume(ConsumeContext<SeckillAcceptedBatch> context) => ReleaseAllAsync(context.Message.Purchases ?? [], context);

    /// <summary>Every purchase of the message gets its turn; a failure is raised at the end, and the retry repeats only what changes nothing twice.</summary>
    private async Task ReleaseAllAsync(IReadOnlyList<SeckillAccepted> purchases, ConsumeContext context)
    {
        var failures = new List<Exception>();
        foreach (var accepted in purchases)
        {
            if (accepted is null || accepted.ReservationId == Guid.Empty || accepted.CampaignId == Guid.Empty || string.IsNullOrEmpty(accepted.UserId) || accepted.Shard < 0)
            {
                // Names no reservation: nothing is held for it anywhere.
                LogUnreadable(logger, context.MessageId);
                continue;
            }

            try
            {
                var outcome = await outage.RunAsync(cancellationToken => ReleaseAsync(accepted, cancellationToken), context.CancellationToken);
                LogReleased(logger, accepted.ReservationId, outcome);
            }
            catch (Exception e) when (!context.CancellationToken.IsCancellationRequested)
            {
                failures.Add(e);
            }
        }

        if (failures.Count > 0)
        {
            throw new AggregateException(failures);
        }
    }

    private async Task<string> ReleaseAsync(SeckillAccepted accepted, CancellationToken cancellationToken)
    {
        var token = await reservations.ReadTokenAsync(accepted.CampaignId, accepted.Shard, accepted.ReservationId);
        if (token is { State: TokenState.Confirmed or TokenState.Failed })
        {
            return $"already {token.State.Value.ToStored()}";
        }

        if (token is { State: null })
        {
            // A state no script of this version writes: deciding in PostgreSQL what Redis would refuse to
            // carry out would leave the two disagreeing. Left for the operator, with the message in _error.
            return "left alone: its token is in a state this version does not know";
        }

        var verdict = await ledger.ReleaseAsync(accepted, StockReturnReasons.DeadLettered, cancellationToken);
        if (verdict.OrderId is { } orderId)
        {
            await reservations.ConfirmAsync([new Confirmation(accepted.CampaignId, accepted.Shard, accepted.ReservationId, orderId)]);
            return "confirmed with its order";
        }

        var released = await reservations.ReturnAsync(accepted.CampaignId, accepted.Shard, accepted.ReservationId, accepted.UserId,
            verdict.Refusal!, returnUnit: StockReturnReasons.ReturnsUnit(verdict.Refusal!));
        if (released == ReleaseOutcome.Released)
        {
            metrics.Compensated(verdict.Refusal!);
        }

        return $"{verdict.Refusal}: {released}";
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead-lettered reservation {ReservationId}: {Outcome}")]
    private static partial void LogReleased(ILogger logger, Guid reservationId, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead-lettered message {MessageId} names no reservation; nothing to release")]
    private static partial void LogUnreadable(ILogger logger, Guid? messageId);
}
