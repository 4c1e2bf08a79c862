using Microsoft.EntityFrameworkCore;
using Seckill.Data;

namespace Seckill.Worker.Housekeeping;

public sealed record EndedCampaign(Guid Id, int ShardCount);

/// <summary>Which ended campaigns a housekeeping round looks at.</summary>
public interface IEndedCampaigns
{
    /// <summary>
    /// Ended before <paramref name="endedBefore"/>, with no order awaiting payment or owing its unit back,
    /// not yet found settled: all of them, since one that
    /// stays open (its queue is slow) must not keep later ones from settling.
    /// </summary>
    Task<IReadOnlyList<EndedCampaign>> ListUnsettledAsync(DateTimeOffset endedBefore, CancellationToken cancellationToken);

    /// <summary>Settled before <paramref name="settledBefore"/>, keys not yet deleted, and no other worker deleting them now.</summary>
    Task<IReadOnlyList<EndedCampaign>> ListDueAsync(DateTimeOffset settledBefore, DateTimeOffset now, CancellationToken cancellationToken);
}

public sealed class EndedCampaignsInDatabase(IDbContextFactory<SeckillDbContext> databases) : IEndedCampaigns
{
    // A campaign that fails to archive keeps its lease and drops out of the list, so it cannot block the rest.
    private const int RoundLimit = 100;

    public async Task<IReadOnlyList<EndedCampaign>> ListUnsettledAsync(DateTimeOffset endedBefore, CancellationToken cancellationToken)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        return await db.Campaigns.AsNoTracking()
            .Where(c => c.ArchivedAt == null && c.SettledAt == null && c.InventoryLoadedAt != null
                && (c.EndedAt ?? c.EndsAt) < endedBefore
                // An order awaiting payment may still expire and give its unit back to a shard.
                && !db.Orders.Any(o => o.CampaignId == c.Id
                    && (o.Status == OrderStatus.AwaitingPayment || (o.Status == OrderStatus.PaymentExpired && o.UnitReturnedAt == null))))
            .Select(c => new EndedCampaign(c.Id, c.ShardCount))
            .ToListAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<EndedCampaign>> ListDueAsync(DateTimeOffset settledBefore, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        return await db.Campaigns.AsNoTracking()
            .Where(c => c.ArchivedAt == null && c.SettledAt < settledBefore
                && (c.HousekeepingLeaseUntil == null || c.HousekeepingLeaseUntil < now))
            .OrderBy(c => c.SettledAt)
            .Take(RoundLimit)
            .Select(c => new EndedCampaign(c.Id, c.ShardCount))
            .ToListAsync(cancellationToken);
    }
}
