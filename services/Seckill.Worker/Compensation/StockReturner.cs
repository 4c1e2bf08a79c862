using MassTransit;
using Seckill.Contracts;
using Seckill.Inventory;
using Seckill.Worker.Payments;
using Seckill.Worker.Stores;
using Seckill.Observability;

namespace Seckill.Worker.Compensation;

/// <summary>
/// Returns the unit of a reservation that got no order to the shard it came from, marks its token
/// failed with the reason, and frees the buyer to try again. A unit the real-inventory guard
/// refused is not returned: it never existed in the real stock, and returning it would sell it again.
/// An order that expired unpaid returns its unit too; its token becomes expired and the buyer stays
/// marked, and PostgreSQL records that the unit is back so expiry stops asking for it.
/// </summary>
public sealed partial class StockReturner(ShardReservations reservations, PaymentLedger payments, StoreOutage outage, SeckillMetrics metrics, ILogger<StockReturner> logger)
    : IConsumer<StockReturnRequested>
{
    public async Task Consume(ConsumeContext<StockReturnRequested> context)
    {
        var request = context.Message;
        if (request.Reason == StockReturnReasons.PaymentExpired)
        {
            await outage.RunAsync(token => ReturnExpiredUnitAsync(request, token), context.CancellationToken);
            return;
        }

        var outcome = await outage.RunAsync(
            _ => reservations.ReturnAsync(request.CampaignId, request.Shard, request.ReservationId, request.UserId, request.Reason,
                returnUnit: StockReturnReasons.ReturnsUnit(request.Reason)),
            context.CancellationToken);
        if (outcome == ReleaseOutcome.Released)
        {
            // Counted once per reservation: a redelivered request finds the token already failed.
            metrics.Compensated(request.Reason);
        }

        LogReturned(logger, request.ReservationId, request.Reason, outcome);
    }

    private async Task ReturnExpiredUnitAsync(StockReturnRequested request, CancellationToken cancellationToken)
    {
        if (await reservations.ReturnExpiredUnitAsync(request.CampaignId, request.Shard, request.ReservationId, request.UserId))
        {
            await payments.MarkUnitReturnedAsync(request.ReservationId, cancellationToken);
            metrics.Compensated(request.Reason);
            LogReturned(logger, request.ReservationId, request.Reason, ReleaseOutcome.Released);
        }
        else
        {
            LogNotReturned(logger, request.ReservationId);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Expired order of reservation {ReservationId}: its token is in a state that holds no order; unit not returned (reconcile the campaign)")]
    private static partial void LogNotReturned(ILogger logger, Guid reservationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Compensation for reservation {ReservationId} ({Reason}): {Outcome}")]
    private static partial void LogReturned(ILogger logger, Guid reservationId, string reason, ReleaseOutcome outcome);
}
