using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Seckill.Data;

namespace Seckill.Worker.Sweeping;

public sealed record SweptCampaign(Guid Id, int ShardCount);

/// <summary>Which campaigns a sweep round visits.</summary>
public interface ISweptCampaigns
{
    Task<IReadOnlyList<SweptCampaign>> ListAsync(CancellationToken cancellationToken);
}

/// <summary>Campaigns created within the horizon that have not ended more than a day ago.</summary>
public sealed class RecentCampaigns(IDbContextFactory<SeckillDbContext> databases, IOptions<SweeperOptions> options, TimeProvider clock)
    : ISweptCampaigns
{
    public async Task<IReadOnlyList<SweptCampaign>> ListAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var createdAfter = now - options.Value.CampaignHorizon;
        var endedAfter = now - TimeSpan.FromDays(1);
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        return await db.Campaigns.AsNoTracking()
            .Where(c => c.InventoryLoadedAt != null && c.CreatedAt > createdAfter && (c.EndsAt == null || c.EndsAt > endedAfter))
            .Select(c => new SweptCampaign(c.Id, c.ShardCount))
            .ToListAsync(cancellationToken);
    }
}
