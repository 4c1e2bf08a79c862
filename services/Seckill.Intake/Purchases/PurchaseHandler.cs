using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.Options;
using Seckill.Contracts;
using Seckill.Intake.Campaigns;
using Seckill.Inventory;

namespace Seckill.Intake.Purchases;

/// <summary>
/// Patent step S4 and the hand-off to S5: reserve one unit on the buyer's shard, then publish
/// <see cref="SeckillAccepted"/> and answer only once the broker confirmed it.
/// </summary>
public sealed partial class PurchaseHandler(
    ShardReservations reservations,
    SoldOutFlags soldOut,
    IBus bus,
    IOptions<IntakeOptions> options,
    ILogger<PurchaseHandler> logger)
{
    // Requests with one Idempotency-Key that race inside this process share one attempt and so
    // one answer; across processes the buyer's marker in Redis gives the same reservation back.
    private readonly ConcurrentDictionary<(Guid Campaign, string User, string Key), Lazy<Task<PurchaseOutcome>>> _inFlight = new();

    public async Task<PurchaseOutcome> PurchaseAsync(CampaignInfo campaign, string userId, string? idempotencyKey)
    {
        if (idempotencyKey is null)
        {
            return await ReserveAndPublishAsync(campaign, userId, idempotencyKey);
        }

        var key = (campaign.Id, userId, idempotencyKey);
        var attempt = _inFlight.GetOrAdd(key, _ => new Lazy<Task<PurchaseOutcome>>(() => ReserveAndPublishAsync(campaign, userId, idempotencyKey)));
        try
        {
            return await attempt.Value;
        }
        finally
        {
            _inFlight.TryRemove(new KeyValuePair<(Guid, string, string), Lazy<Task<PurchaseOutcome>>>(key, attempt));
        }
    }

    private async Task<PurchaseOutcome> ReserveAndPublishAsync(CampaignInfo campaign, string userId, string? idempotencyKey)
    {
        var outcome = await reservations.ReserveAsync(campaign.Shards, userId, idempotencyKey);
        switch (outcome)
        {
            case ReserveOutcome.AlreadyHeld { ReservationId: { } earlier, IdempotencyKey: { } key } when key == idempotencyKey:
                return new PurchaseOutcome.Accepted(earlier);
            case ReserveOutcome.AlreadyHeld:
                return new PurchaseOutcome.AlreadyPurchased();
            case ReserveOutcome.SoldOut:
                soldOut.MarkSoldOut(campaign.Id);
                return new PurchaseOutcome.SoldOut();
            case ReserveOutcome.HoldLost:
                return new PurchaseOutcome.Unavailable("busy", "The reservation could not be completed in time; nothing is held, try again.");
        }

        var reserved = (ReserveOutcome.Reserved)outcome;
        try
        {
            using var timeout = new CancellationTokenSource(options.Value.PublishTimeout);
            // Mandatory: should the queue binding ever be missing, the broker returns the message and
            // the buyer gets 503 with the unit back, instead of a 202 for a message nobody will read.
            await bus.Publish(
                new SeckillAccepted(reserved.ReservationId, campaign.Id, userId, reserved.Shard, reserved.AcceptedAt),
                context => context.Mandatory = true,
                timeout.Token);
            return new PurchaseOutcome.Accepted(reserved.ReservationId);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogPublishFailed(logger, e, reserved.ReservationId);
            await UndoAsync(campaign, reserved, userId);
            return new PurchaseOutcome.Unavailable("broker-unavailable",
                "The order queue did not confirm the purchase; nothing is held, try again shortly.");
        }
    }

    private async Task UndoAsync(CampaignInfo campaign, ReserveOutcome.Reserved reserved, string userId)
    {
        try
        {
            await reservations.UndoAsync(campaign.Shards, reserved, userId, StockReturnReasons.BrokerUnavailable);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The token stays pending: the sweeper expires it and returns the unit, so nothing is lost.
            LogUndoFailed(logger, e, reserved.ReservationId, campaign.Id, reserved.Shard);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing SeckillAccepted for reservation {ReservationId} failed; returning its unit")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, Guid reservationId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Undo of unpublished reservation {ReservationId} (campaign {CampaignId}, shard {Shard}) failed; the sweeper will expire it")]
    private static partial void LogUndoFailed(ILogger logger, Exception exception, Guid reservationId, Guid campaignId, int shard);
}
