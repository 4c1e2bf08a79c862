using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Seckill.Data;
using Seckill.Inventory;

namespace Seckill.Intake.Campaigns;

/// <summary>What the hot path needs to qualify a buyer (patent step S3).</summary>
public sealed record CampaignInfo(Guid Id, int Number, int ShardCount, DateTimeOffset StartsAt, DateTimeOffset? EndsAt, bool OnSale)
{
    public CampaignShards Shards => new(Id, Number, ShardCount);
}

/// <summary>
/// Campaign metadata cached in-process for <see cref="IntakeOptions.CampaignCacheLifetime"/>, so a
/// crowd of buyers costs PostgreSQL one query per campaign per interval, not one per request.
/// Concurrent misses for one campaign share a single query.
/// </summary>
public sealed class CampaignDirectory(IDbContextFactory<SeckillDbContext> databases, IOptions<IntakeOptions> options, TimeProvider clock)
{
    private readonly ConcurrentDictionary<Guid, Entry> _byId = new();
    private readonly ConcurrentDictionary<int, Entry> _byNumber = new();

    public Task<CampaignInfo?> FindAsync(Guid id) =>
        GetAsync(_byId, id, (db, key) => db.Campaigns.Where(c => c.Id == key));

    public Task<CampaignInfo?> FindByNumberAsync(int number) =>
        GetAsync(_byNumber, number, (db, key) => db.Campaigns.Where(c => c.Number == key));

    private async Task<CampaignInfo?> GetAsync<TKey>(
        ConcurrentDictionary<TKey, Entry> cache, TKey key, Func<SeckillDbContext, TKey, IQueryable<Campaign>> query)
        where TKey : notnull
    {
        var now = clock.GetUtcNow();
        if (cache.TryGetValue(key, out var cached) && cached.ExpiresAt > now)
        {
            return await cached.Info;
        }

        var fresh = new Entry(LoadAsync(key, query), now + options.Value.CampaignCacheLifetime);
        var entry = cache.AddOrUpdate(key, fresh, (_, existing) => existing.ExpiresAt > now ? existing : fresh);
        try
        {
            return await entry.Info;
        }
        catch
        {
            // A failed lookup must not be served from the cache to later buyers.
            cache.TryRemove(new KeyValuePair<TKey, Entry>(key, entry));
            throw;
        }
    }

    private async Task<CampaignInfo?> LoadAsync<TKey>(TKey key, Func<SeckillDbContext, TKey, IQueryable<Campaign>> query)
    {
        await using var db = await databases.CreateDbContextAsync();
        return await query(db, key).AsNoTracking()
            .Select(c => new CampaignInfo(c.Id, c.Number, c.ShardCount, c.StartsAt, c.EndsAt, c.InventoryLoadedAt != null))
            .FirstOrDefaultAsync();
    }

    private sealed record Entry(Task<CampaignInfo?> Info, DateTimeOffset ExpiresAt);
}
