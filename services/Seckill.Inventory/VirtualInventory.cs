using StackExchange.Redis;

namespace Seckill.Inventory;

/// <summary>One shard's reconciliation: the stock found (null when the key was gone), the correct stock, and what it was computed from.</summary>
public sealed record ShardReconciliation(int Index, long? Actual, long Expected, long Open, long Confirmed)
{
    public long Drift => (Actual ?? 0) - Expected;
}

/// <summary>A buyer with a confirmed order: its reservation, and the shard holding its token.</summary>
public readonly record struct RestoredBuyer(Guid ReservationId, string UserId, int Shard);

/// <summary>One shard's live state; <paramref name="Open"/> counts tokens not final yet (reserved, queued or claimed).</summary>
public sealed record ShardSnapshot(int Index, long VirtualStock, long Open, long Failed);

/// <summary>The first-level cache of patent step S1: each shard's virtual stock in Redis.</summary>
public sealed class VirtualInventory(ShardConnections shards)
{
    /// <summary>
    /// Writes each shard's share only where the shard has none yet, so a retried load after an
    /// interruption completes the missing shards and never resets one that buyers already drew from.
    /// </summary>
    public async Task LoadAsync(Guid campaignId, IReadOnlyList<int> shares)
    {
        var writes = new Task<bool>[shares.Count];
        for (var i = 0; i < shares.Count; i++)
        {
            var keys = new ShardKeys(campaignId, i);
            writes[i] = shards.ForShard(i).StringSetAsync(keys.Stock, shares[i], when: When.NotExists);
        }

        await Task.WhenAll(writes);
    }

    /// <summary>See Scripts/reconcile_shard.lua; <paramref name="apply"/> false only reports.</summary>
    public async Task<ShardReconciliation> ReconcileShardAsync(Guid campaignId, int shard, int share, long confirmed, bool apply)
    {
        var keys = new ShardKeys(campaignId, shard);
        var result = (RedisResult[])(await shards.ForShard(shard).ScriptEvaluateAsync(
            LuaScripts.ReconcileShard, [keys.Stock, keys.Pending], [share, confirmed, apply ? 1 : 0]))!;
        var actual = (string?)result[0];
        return new ShardReconciliation(shard, string.IsNullOrEmpty(actual) ? null : long.Parse(actual, System.Globalization.CultureInfo.InvariantCulture),
            (long)result[1], (long)result[2], confirmed);
    }

    /// <summary>
    /// Puts back the markers of buyers who hold confirmed orders, so a shard that lost them still refuses
    /// their second purchase. Each marker carries the idempotency key its token recorded (<c>k</c>), so a
    /// replay with that key still gets its reservation; a token lost with its server took the key along.
    /// </summary>
    public async Task<int> RestoreMarkersAsync(Guid campaignId, int homeShard, IReadOnlyCollection<RestoredBuyer> buyers)
    {
        var keys = new ShardKeys(campaignId, homeShard);
        var db = shards.ForShard(homeShard);
        var idempotencyKeys = await Task.WhenAll(buyers.Select(b =>
            shards.ForShard(b.Shard).HashGetAsync(new ShardKeys(campaignId, b.Shard).Token(b.ReservationId), "k")));
        var writes = buyers.Zip(idempotencyKeys, (b, key) =>
            db.StringSetAsync(keys.Buyer(b.UserId), $"{b.ReservationId:N}|{(string?)key}", when: When.NotExists)).ToList();
        var results = await Task.WhenAll(writes);
        return results.Count(written => written);
    }

    public async Task<IReadOnlyList<ShardSnapshot>> ReadAsync(Guid campaignId, int shardCount)
    {
        var reads = new Task<ShardSnapshot>[shardCount];
        for (var i = 0; i < shardCount; i++)
        {
            reads[i] = ReadShardAsync(campaignId, i);
        }

        return await Task.WhenAll(reads);
    }

    private async Task<ShardSnapshot> ReadShardAsync(Guid campaignId, int shard)
    {
        var keys = new ShardKeys(campaignId, shard);
        var batch = shards.ForShard(shard).CreateBatch();
        var stock = batch.StringGetAsync(keys.Stock);
        var pending = batch.StringGetAsync(keys.Pending);
        var failed = batch.StringGetAsync(keys.Failed);
        batch.Execute();
        return new ShardSnapshot(shard, (long)await stock, (long?)await pending ?? 0, (long?)await failed ?? 0);
    }
}
