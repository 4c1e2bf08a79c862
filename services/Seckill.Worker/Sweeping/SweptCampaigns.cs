using Microsoft.EntityFrameworkCore;
using Seckill.Data;

namespace Seckill.Worker.Sweeping;

public sealed record SweptCampaign(Guid Id, int ShardCount);

/// <summary>Which campaigns a sweep round visits.</summary>
public interface ISweptCampaigns
{
    Task<IReadOnlyList<SweptCampaign>> ListAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Every campaign that may hold an open reservation, however long ago it was created: all but those
/// housekeeping found settled (ended, every reservation final) or archived. So an idle round costs one
/// query plus the live campaigns' shards, whatever the number of campaigns that ever ended.
/// </summary>
public sealed class UnsettledCampaigns(IDbContextFactory<SeckillDbContext> databases) : ISweptCampaigns
{
    public async Task<IReadOnlyList<SweptCampaign>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        return await db.Campaigns.AsNoTracking()
            .Where(c => c.InventoryLoadedAt != null && c.SettledAt == null && c.ArchivedAt == null)
            .Select(c => new SweptCampaign(c.Id, c.ShardCount))
            .ToListAsync(cancellationToken);
    }
}
