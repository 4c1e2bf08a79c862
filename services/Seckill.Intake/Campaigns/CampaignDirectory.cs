using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Seckill.Data;
using Seckill.Inventory;

namespace Seckill.Intake.Campaigns;

/// <summary>What the hot path needs to qualify a buyer (patent step S3).</summary>
/// <param name="ClosesAt">When purchases stop: the scheduled end, or the moment an admin ended the sale.</param>
public sealed record CampaignInfo(Guid Id, int Number, int ShardCount, DateTimeOffset StartsAt, DateTimeOffset? ClosesAt, bool OnSale)
{
    public CampaignShards Shards => new(Id, Number, ShardCount);
}

/// <summary>
/// Campaign metadata cached in-process for <see cref="IntakeOptions.CampaignCacheLifetime"/>, so a
/// crowd of buyers costs PostgreSQL one query per campaign per interval, not one per request.
/// Concurrent misses for one campaign share a single query; when PostgreSQL cannot answer, the last
/// known metadata keeps serving (the hot path never needs the database otherwise). The cache holds at most
/// <see cref="IntakeOptions.CampaignCacheEntries"/>: ids come from clients, and unknown ones are
/// dropped first when it is full.
/// </summary>
public sealed partial class CampaignDirectory(
    IDbContextFactory<SeckillDbContext> databases,
    IOptions<IntakeOptions> options,
    TimeProvider clock,
    ILogger<CampaignDirectory> logger)
{
    private readonly ConcurrentDictionary<Guid, Entry> _byId = new();
    private readonly ConcurrentDictionary<int, Entry> _byNumber = new();

    /// <summary>Entries held now, for the bound's test and for operators.</summary>
    public int CachedEntries => _byId.Count + _byNumber.Count;

    public Task<CampaignInfo?> FindAsync(Guid id) =>
        GetAsync(_byId, id, (db, key) => db.Campaigns.Where(c => c.Id == key));

    public Task<CampaignInfo?> FindByNumberAsync(int number) =>
        GetAsync(_byNumber, number, (db, key) => db.Campaigns.Where(c => c.Number == key));

    /// <summary>
    /// The campaign and shard a reservation id names (it carries both), or null when it names no
    /// campaign or a shard the campaign does not have: such an id is answered as unknown.
    /// </summary>
    public async Task<(CampaignInfo Campaign, int Shard)?> FindByReservationAsync(Guid reservationId) =>
        ReservationIds.TryDecode(reservationId, out var number, out var shard)
        && await FindByNumberAsync(number) is { } campaign
        && shard < campaign.ShardCount
            ? (campaign, shard)
            : null;

    private async Task<CampaignInfo?> GetAsync<TKey>(
        ConcurrentDictionary<TKey, Entry> cache, TKey key, Func<SeckillDbContext, TKey, IQueryable<Campaign>> query)
        where TKey : notnull
    {
        var now = clock.GetUtcNow();
        if (cache.TryGetValue(key, out var cached) && cached.ExpiresAt > now)
        {
            return await cached.Info;
        }

        var fresh = new Entry(RefreshAsync(key, query, cached), now + options.Value.CampaignCacheLifetime);
        var entry = cache.AddOrUpdate(key, fresh, (_, existing) => existing.ExpiresAt > now ? existing : fresh);
        if (ReferenceEquals(entry, fresh) && CachedEntries > options.Value.CampaignCacheEntries)
        {
            Trim(now);
        }

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

    /// <summary>
    /// Drops expired entries and unknown campaigns, then, if still full, any entries down to three
    /// quarters of the bound — so a flood of invented ids costs one sweep per quarter of the bound,
    /// not one per request.
    /// </summary>
    private void Trim(DateTimeOffset now)
    {
        var target = options.Value.CampaignCacheEntries * 3 / 4;
        Drop(_byId, e => e.ExpiresAt <= now || IsUnknown(e));
        Drop(_byNumber, e => e.ExpiresAt <= now || IsUnknown(e));
        Drop(_byId, _ => CachedEntries > target);
        Drop(_byNumber, _ => CachedEntries > target);
    }

    private static void Drop<TKey>(ConcurrentDictionary<TKey, Entry> cache, Func<Entry, bool> drop)
        where TKey : notnull
    {
        foreach (var pair in cache)
        {
            if (drop(pair.Value))
            {
                cache.TryRemove(pair);
            }
        }
    }

    private static bool IsUnknown(Entry entry) => entry.Info.IsCompletedSuccessfully && entry.Info.Result is null;

    /// <summary>
    /// A refresh that fails keeps the previous answer for one more lifetime, so a database outage
    /// does not turn the crowd of a running sale into errors; with nothing known yet, it fails.
    /// </summary>
    private async Task<CampaignInfo?> RefreshAsync<TKey>(TKey key, Func<SeckillDbContext, TKey, IQueryable<Campaign>> query, Entry? previous)
    {
        try
        {
            return await LoadAsync(key, query);
        }
        catch (Exception e) when (previous is { Info.IsCompletedSuccessfully: true } && e is not OperationCanceledException)
        {
            LogServingStale(logger, e, $"{key}");
            return previous.Info.Result;
        }
    }

    private async Task<CampaignInfo?> LoadAsync<TKey>(TKey key, Func<SeckillDbContext, TKey, IQueryable<Campaign>> query)
    {
        await using var db = await databases.CreateDbContextAsync();
        return await query(db, key).AsNoTracking()
            .Select(c => new CampaignInfo(c.Id, c.Number, c.ShardCount, c.StartsAt, c.EndedAt ?? c.EndsAt, c.InventoryLoadedAt != null))
            .FirstOrDefaultAsync();
    }

    private sealed record Entry(Task<CampaignInfo?> Info, DateTimeOffset ExpiresAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Campaign {Key} could not be refreshed from PostgreSQL; its last known metadata is served for one more lifetime")]
    private static partial void LogServingStale(ILogger logger, Exception exception, string key);
}
