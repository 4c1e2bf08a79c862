using Microsoft.Extensions.Options;
using Seckill.Inventory;
using Seckill.Worker.Stores;

namespace Seckill.Worker.Housekeeping;

/// <summary>
/// Keeps Redis bounded by the live campaigns. Each round: a campaign ended at least
/// <see cref="HousekeepingOptions.SettleAfter"/> ago whose every shard is final is marked settled (the
/// sweeper stops visiting it); one settled longer than <see cref="HousekeepingOptions.Retention"/> ago has
/// its keys deleted on every shard and is marked archived, after which it is answered from PostgreSQL.
/// Any number of workers run it: a lease on the row gives one of them each campaign, and a crashed
/// one's lease runs out so another resumes (deleting again is harmless).
/// </summary>
public sealed partial class CampaignHousekeeper(
    IEndedCampaigns campaigns,
    CampaignLifecycle lifecycle,
    ShardArchive archive,
    IOptions<HousekeepingOptions> options,
    TimeProvider clock,
    ILogger<CampaignHousekeeper> logger) : PeriodicJob(clock, logger)
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private readonly HousekeepingOptions _options = options.Value;

    protected override bool Enabled => _options.Enabled;

    protected override TimeSpan Interval => _options.Interval;

    protected override string Name => "housekeeping";

    protected override async Task RunRoundAsync(CancellationToken cancellationToken)
    {
        await SettleAsync(cancellationToken);
        await ArchiveDueAsync(cancellationToken);
    }

    private async Task SettleAsync(CancellationToken cancellationToken)
    {
        var now = Clock.GetUtcNow();
        foreach (var campaign in await campaigns.ListUnsettledAsync(now - _options.SettleAfter, cancellationToken))
        {
            if (await IsFinalAsync(campaign))
            {
                await lifecycle.MarkSettledAsync(campaign.Id, Clock.GetUtcNow(), cancellationToken);
            }
        }
    }

    private async Task ArchiveDueAsync(CancellationToken cancellationToken)
    {
        var now = Clock.GetUtcNow();
        foreach (var campaign in await campaigns.ListDueAsync(now - _options.Retention, now, cancellationToken))
        {
            if (await lifecycle.TryLeaseAsync(campaign.Id, Clock.GetUtcNow(), Clock.GetUtcNow() + Lease, cancellationToken))
            {
                await ArchiveAsync(campaign, cancellationToken);
            }
        }
    }

    private async Task ArchiveAsync(EndedCampaign campaign, CancellationToken cancellationToken)
    {
        // Checked again under the lease: deleting a token that still waits for a decision would lose it.
        if (!await IsFinalAsync(campaign))
        {
            await lifecycle.UnsettleAsync(campaign.Id, cancellationToken);
            LogNotFinal(logger, campaign.Id);
            return;
        }

        long failed = 0;
        for (var shard = 0; shard < campaign.ShardCount; shard++)
        {
            failed += await archive.ReadFailedAsync(campaign.Id, shard);
        }

        await lifecycle.RecordFailedAsync(campaign.Id, failed, cancellationToken);
        long deleted = 0;
        for (var shard = 0; shard < campaign.ShardCount; shard++)
        {
            deleted += await archive.DeleteKeysAsync(campaign.Id, shard, cancellationToken);
            await lifecycle.RenewLeaseAsync(campaign.Id, Clock.GetUtcNow() + Lease, cancellationToken);
        }

        await lifecycle.MarkArchivedAsync(campaign.Id, Clock.GetUtcNow(), cancellationToken);
        LogArchived(logger, campaign.Id, deleted, campaign.ShardCount);
    }

    private async Task<bool> IsFinalAsync(EndedCampaign campaign)
    {
        for (var shard = 0; shard < campaign.ShardCount; shard++)
        {
            if (!await archive.IsFinalAsync(campaign.Id, shard))
            {
                return false;
            }
        }

        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Archived campaign {CampaignId}: deleted {Keys} key(s) over {Shards} shard(s)")]
    private static partial void LogArchived(ILogger logger, Guid campaignId, long keys, int shards);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Campaign {CampaignId} was settled but a shard holds an open reservation again; left to the sweeper")]
    private static partial void LogNotFinal(ILogger logger, Guid campaignId);

}
