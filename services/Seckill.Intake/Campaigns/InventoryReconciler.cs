using Microsoft.EntityFrameworkCore;
using Seckill.Data;
using Seckill.Inventory;

namespace Seckill.Intake.Campaigns;

public sealed record ReconciliationReport(Guid CampaignId, bool Applied, IReadOnlyList<ShardReconciliation> Shards, int MarkersRestored)
{
    public long TotalDrift => Shards.Sum(s => s.Drift);
}

/// <summary>
/// Recomputes every shard's correct virtual stock from PostgreSQL (confirmed orders per shard) and
/// the live tokens, reports the drift, and with <c>apply</c> writes it, restoring the markers of
/// buyers with confirmed orders too (with the idempotency key their token recorded). For a Redis
/// server that restarted empty or lost its last second of writes. Best run when the campaign is quiet
/// or after the queue drained: an order committed between the PostgreSQL count and the shard's script
/// is briefly counted in neither.
/// </summary>
public sealed class InventoryReconciler(IDbContextFactory<SeckillDbContext> databases, VirtualInventory inventory)
{
    private const int MarkerChunk = 1_000;

    public async Task<ReconciliationReport?> ReconcileAsync(Guid campaignId, bool apply, CancellationToken cancellationToken)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var campaign = await db.Campaigns.AsNoTracking().FirstOrDefaultAsync(c => c.Id == campaignId, cancellationToken);
        if (campaign is null)
        {
            return null;
        }

        var confirmedByShard = await db.Orders.AsNoTracking()
            // An expired order's unit counts as held until it is confirmed back on its shard.
            .Where(o => o.CampaignId == campaignId && (o.Status != OrderStatus.PaymentExpired || o.UnitReturnedAt == null))
            .GroupBy(o => o.Shard)
            .Select(g => new { Shard = g.Key, Count = g.LongCount() })
            .ToDictionaryAsync(g => g.Shard, g => g.Count, cancellationToken);
        var shares = StockAllocation.Split(campaign.TotalStock, campaign.ShardCount);
        var shards = new List<ShardReconciliation>(campaign.ShardCount);
        for (var shard = 0; shard < campaign.ShardCount; shard++)
        {
            shards.Add(await inventory.ReconcileShardAsync(campaignId, shard, shares[shard], confirmedByShard.GetValueOrDefault(shard), apply));
        }

        var restored = apply ? await RestoreMarkersAsync(db, campaign, cancellationToken) : 0;
        return new ReconciliationReport(campaignId, apply, shards, restored);
    }

    private async Task<int> RestoreMarkersAsync(SeckillDbContext db, Campaign campaign, CancellationToken cancellationToken)
    {
        var restored = 0;
        var pending = new List<RestoredBuyer>[campaign.ShardCount];
        for (var i = 0; i < pending.Length; i++)
        {
            pending[i] = [];
        }

        var buyers = db.Orders.AsNoTracking().Where(o => o.CampaignId == campaign.Id)
            .Select(o => new { o.ReservationId, o.UserId, o.Shard }).AsAsyncEnumerable();
        await foreach (var buyer in buyers.WithCancellation(cancellationToken))
        {
            var home = HomeShard.Of(buyer.UserId, campaign.ShardCount);
            pending[home].Add(new RestoredBuyer(buyer.ReservationId, buyer.UserId, buyer.Shard));
            if (pending[home].Count == MarkerChunk)
            {
                restored += await inventory.RestoreMarkersAsync(campaign.Id, home, pending[home]);
                pending[home].Clear();
            }
        }

        for (var home = 0; home < pending.Length; home++)
        {
            restored += await inventory.RestoreMarkersAsync(campaign.Id, home, pending[home]);
        }

        return restored;
    }
}
