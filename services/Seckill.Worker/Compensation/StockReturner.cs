using MassTransit;
using Seckill.Contracts;
using Seckill.Inventory;
using Seckill.Worker.Stores;

namespace Seckill.Worker.Compensation;

/// <summary>
/// Returns the unit of a reservation that got no order to the shard it came from, marks its token
/// failed with the reason, and frees the buyer to try again. A unit the real-inventory guard
/// refused is not returned: it never existed in the real stock, and returning it would sell it again.
/// </summary>
public sealed partial class StockReturner(ShardReservations reservations, StoreOutage outage, ILogger<StockReturner> logger)
    : IConsumer<StockReturnRequested>
{
    public async Task Consume(ConsumeContext<StockReturnRequested> context)
    {
        var request = context.Message;
        var outcome = await outage.RunAsync(
            _ => reservations.ReturnAsync(request.CampaignId, request.Shard, request.ReservationId, request.UserId, request.Reason,
                returnUnit: StockReturnReasons.ReturnsUnit(request.Reason)),
            context.CancellationToken);
        LogReturned(logger, request.ReservationId, request.Reason, outcome);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Compensation for reservation {ReservationId} ({Reason}): {Outcome}")]
    private static partial void LogReturned(ILogger logger, Guid reservationId, string reason, ReleaseOutcome outcome);
}
