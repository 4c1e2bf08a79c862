using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Seckill.Data;
using Seckill.Inventory;
using Seckill.Worker.Orders;

namespace Seckill.Worker.Sweeping;

/// <summary>
/// Expires tokens left pending past <see cref="SweeperOptions.PendingTimeout"/> and returns their
/// units. Safe in any number of worker processes at once: each expiry is one Lua script that only
/// moves a pending token, so the first process wins and a worker's claim always beats the sweeper.
/// It reads each shard's index of pending tokens by time (never KEYS or a full SCAN), so a round
/// with nothing overdue costs one range query per shard.
/// </summary>
public sealed partial class PendingReservationSweeper(
    IDbContextFactory<SeckillDbContext> databases,
    ShardReservations reservations,
    IOptions<SweeperOptions> options,
    TimeProvider clock,
    ILogger<PendingReservationSweeper> logger) : BackgroundService
{
    private readonly SweeperOptions _options = options.Value;

    /// <summary>
    /// The first round runs before the host starts the bus: a restarted worker returns the units of
    /// reservations that went overdue while no worker ran before it takes a message, and the round's
    /// one-time start-up cost (compiling the campaign query) is paid before a drain, not during one.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.Enabled)
        {
            await SweepRoundAsync(cancellationToken);
        }

        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(_options.Interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await SweepRoundAsync(stoppingToken);
        }
    }

    private async Task SweepRoundAsync(CancellationToken cancellationToken)
    {
        try
        {
            await SweepAllAsync(cancellationToken);
        }
        catch (Exception e) when (TransientFailures.IsTransient(e))
        {
            LogSweepFailed(logger, e);
        }
    }

    public async Task SweepAllAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var createdAfter = now - _options.CampaignHorizon;
        var endedAfter = now - TimeSpan.FromDays(1);
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var campaigns = await db.Campaigns.AsNoTracking()
            .Where(c => c.InventoryLoadedAt != null && c.CreatedAt > createdAfter && (c.EndsAt == null || c.EndsAt > endedAfter))
            .Select(c => new { c.Id, c.ShardCount })
            .ToListAsync(cancellationToken);
        foreach (var campaign in campaigns)
        {
            await SweepCampaignAsync(campaign.Id, campaign.ShardCount, cancellationToken);
        }
    }

    public async Task<int> SweepCampaignAsync(Guid campaignId, int shardCount, CancellationToken cancellationToken)
    {
        var acceptedBefore = clock.GetUtcNow() - _options.PendingTimeout;
        var examined = 0;
        for (var shard = 0; shard < shardCount && !cancellationToken.IsCancellationRequested; shard++)
        {
            int page;
            do
            {
                page = await reservations.ExpireOverdueAsync(campaignId, shard, acceptedBefore, _options.BatchSize);
                examined += page;
            }
            while (page == _options.BatchSize && !cancellationToken.IsCancellationRequested);
        }

        if (examined > 0)
        {
            LogExpired(logger, examined, campaignId);
        }

        return examined;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Expired {Count} overdue pending reservation(s) of campaign {CampaignId}")]
    private static partial void LogExpired(ILogger logger, int count, Guid campaignId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A sweep round failed; the next round retries")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
