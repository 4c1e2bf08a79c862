using Microsoft.EntityFrameworkCore;
using Npgsql;
using Seckill.Data;
using Seckill.Inventory;

namespace Seckill.Intake.Campaigns;

public sealed record CreatedCampaign(Campaign Campaign, bool KeyReusedWithOtherValues);

/// <summary>Creates campaigns (row first, then the S1 virtual stock on every shard) and reads them back live.</summary>
public sealed class CampaignCatalog(
    SeckillDbContext db,
    VirtualInventory inventory,
    ShardConnections shards,
    TimeProvider clock)
{
    public const int ListLimit = 100;

    /// <summary>
    /// The row is written before the stock: a crash in between leaves a campaign marked "loading"
    /// that a retry with the same creation key, or <see cref="PendingInventoryLoader"/>, completes.
    /// It is never on sale with part of its stock missing.
    /// </summary>
    public async Task<CreatedCampaign> CreateAsync(CreateCampaignRequest request, string? creationKey, CancellationToken cancellationToken)
    {
        if (creationKey is not null && await FindByCreationKeyAsync(creationKey, cancellationToken) is { } earlier)
        {
            return await ResumeAsync(earlier, request, cancellationToken);
        }

        var now = clock.GetUtcNow();
        var campaign = new Campaign
        {
            Id = Guid.CreateVersion7(now),
            Name = request.Name!.Trim(),
            TotalStock = (int)request.Stock!.Value,
            ShardCount = (int?)request.Shards ?? shards.EndpointCount,
            StartsAt = (request.StartsAtTime ?? now).ToUniversalTime(),
            EndsAt = request.EndsAtTime?.ToUniversalTime(),
            PaymentWindowSeconds = (int)(request.PaymentWindow ?? CreateCampaignRequest.DefaultPaymentWindow),
            CreatedAt = now,
            CreationKey = creationKey,
        };
        db.Campaigns.Add(campaign);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (creationKey is not null && e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // Two retries of one creation raced; the other one inserted first.
            db.ChangeTracker.Clear();
            var winner = await FindByCreationKeyAsync(creationKey, cancellationToken)
                ?? throw new InvalidOperationException("The campaign that won the creation race vanished.", e);
            return await ResumeAsync(winner, request, cancellationToken);
        }

        await LoadInventoryAsync(campaign, cancellationToken);
        return new CreatedCampaign(campaign, KeyReusedWithOtherValues: false);
    }

    public async Task LoadInventoryAsync(Campaign campaign, CancellationToken cancellationToken)
    {
        if (campaign.InventoryLoadedAt is not null)
        {
            return;
        }

        await inventory.LoadAsync(campaign.Id, StockAllocation.Split(campaign.TotalStock, campaign.ShardCount));
        var loadedAt = clock.GetUtcNow();
        await db.Campaigns
            .Where(c => c.Id == campaign.Id && c.InventoryLoadedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(c => c.InventoryLoadedAt, loadedAt), cancellationToken);
        campaign.InventoryLoadedAt = loadedAt;
    }

    public Task<Campaign?> FindAsync(Guid id, CancellationToken cancellationToken) =>
        db.Campaigns.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, cancellationToken);

    public async Task<CampaignView> ViewAsync(Campaign campaign)
    {
        var orders = await OrderCountsAsync(campaign.Id);
        return campaign.ArchivedAt is null
            ? CampaignView.From(campaign, await inventory.ReadAsync(campaign.Id, campaign.ShardCount), orders, clock.GetUtcNow())
            : CampaignView.Archived(campaign, orders, clock.GetUtcNow());
    }

    private async Task<OrderCounts> OrderCountsAsync(Guid campaignId)
    {
        var byStatus = await db.Orders.AsNoTracking()
            .Where(o => o.CampaignId == campaignId)
            .GroupBy(o => o.Status)
            .Select(g => new { Status = g.Key, Count = g.LongCount() })
            .ToDictionaryAsync(g => g.Status, g => g.Count);
        return new OrderCounts(
            byStatus.GetValueOrDefault(OrderStatus.AwaitingPayment),
            byStatus.GetValueOrDefault(OrderStatus.Paid),
            byStatus.GetValueOrDefault(OrderStatus.PaymentExpired));
    }

    /// <summary>
    /// Ends the sale now, unless it has ended already (by an admin or its schedule): null when there
    /// is no such campaign, else the campaign and whether this call ended it. Intakes see the end through
    /// their campaign cache, within <see cref="IntakeOptions.CampaignCacheLifetime"/>; reservations
    /// already made stay in the queue and are written.
    /// </summary>
    public async Task<(Campaign Campaign, bool EndedNow)?> EndAsync(Guid id, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        // One conditional UPDATE: two admins ending at once cannot both move the end.
        var ended = await db.Campaigns
            .Where(c => c.Id == id && c.EndedAt == null && (c.EndsAt == null || c.EndsAt > now))
            .ExecuteUpdateAsync(set => set.SetProperty(c => c.EndedAt, now), cancellationToken);
        return await FindAsync(id, cancellationToken) is { } campaign ? (campaign, ended == 1) : null;
    }

    public async Task<IReadOnlyList<CampaignView>> ListAsync(CancellationToken cancellationToken)
    {
        var campaigns = await db.Campaigns.AsNoTracking()
            .OrderByDescending(c => c.CreatedAt)
            .Take(ListLimit)
            .ToListAsync(cancellationToken);
        var views = new List<CampaignView>(campaigns.Count);
        foreach (var campaign in campaigns)
        {
            views.Add(await ViewAsync(campaign));
        }

        return views;
    }

    private Task<Campaign?> FindByCreationKeyAsync(string creationKey, CancellationToken cancellationToken) =>
        db.Campaigns.FirstOrDefaultAsync(c => c.CreationKey == creationKey, cancellationToken);

    private async Task<CreatedCampaign> ResumeAsync(Campaign earlier, CreateCampaignRequest request, CancellationToken cancellationToken)
    {
        var sameValues = earlier.Name == request.Name!.Trim()
            && earlier.TotalStock == request.Stock
            && (request.Shards is null || earlier.ShardCount == request.Shards)
            && earlier.PaymentWindowSeconds == (request.PaymentWindow ?? CreateCampaignRequest.DefaultPaymentWindow);
        if (!sameValues)
        {
            return new CreatedCampaign(earlier, KeyReusedWithOtherValues: true);
        }

        await LoadInventoryAsync(earlier, cancellationToken);
        return new CreatedCampaign(earlier, KeyReusedWithOtherValues: false);
    }
}
