using System.Collections.Concurrent;
using System.Diagnostics;
using Seckill.Contracts;
using Seckill.Intake.Campaigns;
using Seckill.Inventory;
using Seckill.Observability;

namespace Seckill.Intake.Purchases;

/// <summary>
/// Patent step S4 and the hand-off to S5: reserve one unit on the buyer's shard and hand the
/// <see cref="SeckillAccepted"/> to the group-commit publisher, which marks the token queued once the
/// broker confirmed its message. The answer
/// follows the token: 202 whenever the purchase will be decided by a worker, 503 only when nothing is
/// held for the buyer and no order can appear.
/// </summary>
public sealed partial class PurchaseHandler(
    ShardReservations reservations,
    SearchWatch searches,
    SoldOutFlags soldOut,
    GroupCommitPublisher publisher,
    SeckillMetrics metrics,
    ILogger<PurchaseHandler> logger)
{
    // Three rounds at most: waiting out a search made with the same key, then a replay whose reservation
    // turned out dead frees the marker, then one fresh reservation.
    private const int MaxAttempts = 3;

    // Requests with one Idempotency-Key that race inside this process share one attempt and so
    // one answer; across processes the buyer's marker in Redis gives the same reservation back, once
    // a search the marker is holding for has ended.
    private readonly ConcurrentDictionary<(Guid Campaign, string User, string Key), Lazy<Task<PurchaseOutcome>>> _inFlight = new();

    public async Task<PurchaseOutcome> PurchaseAsync(CampaignInfo campaign, string userId, string? idempotencyKey)
    {
        if (idempotencyKey is null)
        {
            return await ReserveAndHandOffAsync(campaign, userId, idempotencyKey);
        }

        var key = (campaign.Id, userId, idempotencyKey);
        var attempt = _inFlight.GetOrAdd(key, _ => new Lazy<Task<PurchaseOutcome>>(() => ReserveAndHandOffAsync(campaign, userId, idempotencyKey)));
        try
        {
            return await attempt.Value;
        }
        finally
        {
            _inFlight.TryRemove(new KeyValuePair<(Guid, string, string), Lazy<Task<PurchaseOutcome>>>(key, attempt));
        }
    }

    /// <summary>
    /// Whether a sold-out campaign may still owe this buyer the answer of an earlier attempt: only a buyer with
    /// a marker can hold a reservation. A store that does not answer says "maybe": the full purchase path then
    /// answers, and classifies the failure as it does for any purchase.
    /// </summary>
    public async Task<bool> MayHoldReservationAsync(CampaignInfo campaign, string userId)
    {
        try
        {
            return await reservations.HasMarkerAsync(campaign.Shards, userId);
        }
        catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException)
        {
            return true;
        }
    }

    private async Task<PurchaseOutcome> ReserveAndHandOffAsync(CampaignInfo campaign, string userId, string? idempotencyKey)
    {
        for (var attempt = 1; ; attempt++)
        {
            var last = attempt == MaxAttempts;
            var started = Stopwatch.GetTimestamp();
            var outcome = await reservations.ReserveAsync(campaign.Shards, userId, idempotencyKey);
            metrics.Reserved(Stopwatch.GetElapsedTime(started));
            switch (outcome)
            {
                case ReserveOutcome.Reserved reserved:
                    return await HandOffAsync(campaign, new SeckillAccepted(reserved.ReservationId, campaign.Id, userId, reserved.Shard, reserved.AcceptedAt));
                case ReserveOutcome.AlreadyHeld { IdempotencyKey: { } key } held when key == idempotencyKey:
                    var replayed = await ReplayAsync(campaign, userId, held.ReservationId, held.Marker);
                    if (replayed is not null || last)
                    {
                        return replayed ?? Busy;
                    }

                    continue;
                case ReserveOutcome.Searching { IdempotencyKey: { } key } searching when key == idempotencyKey && !last:
                    // This very purchase, sent to another intake too, is searching the other shards. Waiting is
                    // safe: the hold keeps the buyer to that one search, whose end (found, none, or its ttl) then
                    // reads as any marker does — the same reservation, or a fresh attempt.
                    if (!await searches.AwaitSettledAsync(campaign.Shards, userId, searching.Marker))
                    {
                        return new PurchaseOutcome.AlreadyPurchased();
                    }

                    continue;
                case ReserveOutcome.AlreadyHeld or ReserveOutcome.Searching:
                    return new PurchaseOutcome.AlreadyPurchased();
                case ReserveOutcome.SoldOut:
                    soldOut.MarkSoldOut(campaign.Id);
                    return new PurchaseOutcome.SoldOut();
                default:
                    return Busy;
            }
        }
    }

    /// <summary>
    /// The same key again: the answer follows the reservation it names. Still reserved — its first
    /// attempt is publishing now, or its intake died — this attempt hands it off too (a duplicate
    /// message is written once). Failed: the marker is stale, it is cleared and null says "reserve anew".
    /// </summary>
    private async Task<PurchaseOutcome?> ReplayAsync(CampaignInfo campaign, string userId, Guid reservationId, string marker)
    {
        if (!ReservationIds.TryDecode(reservationId, out _, out var shard) || shard >= campaign.ShardCount)
        {
            return new PurchaseOutcome.Accepted(reservationId);
        }

        var token = await reservations.ReadTokenAsync(campaign.Id, shard, reservationId);
        switch (token?.State)
        {
            case TokenState.Reserved:
                return await HandOffAsync(campaign, new SeckillAccepted(reservationId, campaign.Id, userId, shard, token.AcceptedAt));
            case TokenState.Failed:
                await reservations.ClearMarkerAsync(campaign.Shards, userId, marker);
                return null;
            default:
                // Queued, claimed or confirmed; or aged out long after it ended, when the marker that still
                // names it is the buyer's only record: the same 202 either way.
                return new PurchaseOutcome.Accepted(reservationId);
        }
    }

    private async Task<PurchaseOutcome> HandOffAsync(CampaignInfo campaign, SeckillAccepted accepted) =>
        await publisher.HandOffAsync(accepted) switch
        {
            HandOff.NotConfirmed => await UndoAsync(campaign, accepted),
            // Failed: an undo of a concurrent attempt with the same key won; its buyer was told 503,
            // and the message just confirmed will find the token failed and write nothing.
            HandOff.Confirmed { State: TokenState.Failed } => Unavailable,
            // Confirmed but not marked: the message is in the queue, a worker claims the token whether
            // or not it says queued, and if it stays reserved the sweeper publishes it again (written once).
            _ => new PurchaseOutcome.Accepted(accepted.ReservationId),
        };

    /// <summary>
    /// The broker did not confirm in time — but the message may have reached it anyway. The undo only
    /// fails a token still reserved; a token a worker already claimed, or that anyone handed off, is
    /// left to its worker and the buyer gets 202. When the undo itself fails the intake cannot know,
    /// so it answers 202 as well: the reservation stays reserved and the sweeper hands it off.
    /// </summary>
    private async Task<PurchaseOutcome> UndoAsync(CampaignInfo campaign, SeckillAccepted accepted)
    {
        TokenState? state;
        try
        {
            state = await reservations.UndoAsync(campaign.Id, accepted.Shard, accepted.ReservationId, accepted.UserId, StockReturnReasons.BrokerUnavailable);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogUndoFailed(logger, e, accepted.ReservationId, campaign.Id, accepted.Shard);
            return new PurchaseOutcome.Accepted(accepted.ReservationId);
        }

        return state == TokenState.Failed ? Unavailable : new PurchaseOutcome.Accepted(accepted.ReservationId);
    }

    private static readonly PurchaseOutcome.Unavailable Unavailable = new("broker-unavailable",
        "The order queue did not confirm the purchase; nothing is held, try again shortly.");

    private static readonly PurchaseOutcome.Unavailable Busy = new("busy",
        "The reservation could not be completed in time; nothing is held, try again.");

    [LoggerMessage(Level = LogLevel.Error, Message = "Undo of unconfirmed reservation {ReservationId} (campaign {CampaignId}, shard {Shard}) failed; answered 202, the sweeper hands it off")]
    private static partial void LogUndoFailed(ILogger logger, Exception exception, Guid reservationId, Guid campaignId, int shard);
}
