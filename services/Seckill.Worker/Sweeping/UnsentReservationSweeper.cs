using MassTransit;
using Microsoft.Extensions.Options;
using Seckill.Contracts;
using Seckill.Inventory;
using Seckill.Messaging;
using Seckill.Worker.Stores;
using Seckill.Observability;

namespace Seckill.Worker.Sweeping;

/// <summary>
/// Hands off reservations that were never handed off: a token still <c>reserved</c> after
/// <see cref="SweeperOptions.PendingTimeout"/> belongs to an intake that died between reserving and
/// publishing, or whose publish and undo both failed (that buyer was answered 202). The sweeper
/// publishes its <see cref="SeckillAccepted"/> from the token and marks it queued, so it becomes an
/// order like any other. It never expires anything and never touches a queued or claimed token: a
/// slow queue, or no worker at all for a while, only makes the purchase wait.
/// It also retries forgetting buyers' markers that a release on another shard could not clear.
/// Safe in any number of workers at once: a duplicate publish is written once (the claim is
/// idempotent), and each hand-off is one Lua script.
/// </summary>
public sealed partial class UnsentReservationSweeper(
    ISweptCampaigns campaigns,
    ShardReservations reservations,
    IBus bus,
    IOptions<SweeperOptions> options,
    TimeProvider clock,
    SeckillMetrics metrics,
    ILogger<UnsentReservationSweeper> logger) : PeriodicJob(clock, logger)
{
    private const int MaxPagesPerShardAndRound = 20;
    private readonly SweeperOptions _options = options.Value;

    protected override bool Enabled => _options.Enabled;

    protected override TimeSpan Interval => _options.Interval;

    protected override string Name => "sweep";

    protected override Task RunRoundAsync(CancellationToken cancellationToken) => SweepAllAsync(cancellationToken);

    public async Task SweepAllAsync(CancellationToken cancellationToken)
    {
        await Parallel.ForEachAsync(
            await campaigns.ListAsync(cancellationToken),
            new ParallelOptions { MaxDegreeOfParallelism = _options.CampaignConcurrency, CancellationToken = cancellationToken },
            async (campaign, token) => await SweepCampaignAsync(campaign.Id, campaign.ShardCount, token));
    }

    /// <summary>One campaign, shard by shard; a shard that fails (a Redis server loading, busy, gone) does not stop the others.</summary>
    public async Task<int> SweepCampaignAsync(Guid campaignId, int shardCount, CancellationToken cancellationToken)
    {
        var handedOff = 0;
        for (var shard = 0; shard < shardCount && !cancellationToken.IsCancellationRequested; shard++)
        {
            try
            {
                await reservations.ForgetReleasedBuyersAsync(campaignId, shard, _options.BatchSize);
                handedOff += await HandOffShardAsync(campaignId, shard, cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                LogShardFailed(logger, e, campaignId, shard, StoreFailures.Classify(e));
            }
        }

        if (handedOff > 0)
        {
            LogHandedOff(logger, handedOff, campaignId);
        }

        return handedOff;
    }

    private async Task<int> HandOffShardAsync(Guid campaignId, int shard, CancellationToken cancellationToken)
    {
        var acceptedBefore = Clock.GetUtcNow() - _options.PendingTimeout;
        var handedOff = 0;
        for (var page = 0; page < MaxPagesPerShardAndRound; page++)
        {
            var due = await reservations.ReadUnsentAsync(campaignId, shard, acceptedBefore, _options.BatchSize);
            var unsent = new List<SeckillAccepted>(due.Count);
            foreach (var (reservationId, token) in due)
            {
                if (token is { State: TokenState.Reserved })
                {
                    unsent.Add(new SeckillAccepted(reservationId, campaignId, token.UserId, shard, token.AcceptedAt));
                }
                else
                {
                    await reservations.ForgetUnsentAsync(campaignId, shard, reservationId);
                }
            }

            // Every publish is confirmed before any token is marked: a token marked queued always has its message.
            await Task.WhenAll(unsent.Select(accepted => bus.PublishAcceptedAsync(accepted, cancellationToken)));
            await reservations.HandOffAsync([.. unsent.Select(a => new ShardReservation(campaignId, shard, a.ReservationId))]);
            handedOff += unsent.Count;
            metrics.HandedOff(unsent.Count);
            if (due.Count < _options.BatchSize)
            {
                break;
            }
        }

        return handedOff;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Handed off {Count} reservation(s) of campaign {CampaignId} that no intake had handed off")]
    private static partial void LogHandedOff(ILogger logger, int count, Guid campaignId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweeping shard {Shard} of campaign {CampaignId} failed ({Kind}); the next round retries")]
    private static partial void LogShardFailed(ILogger logger, Exception exception, Guid campaignId, int shard, StoreFailure kind);

}
