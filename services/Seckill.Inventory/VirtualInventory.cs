using StackExchange.Redis;

namespace Seckill.Inventory;

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
        var open = batch.SortedSetLengthAsync(keys.Open);
        var failed = batch.StringGetAsync(keys.Failed);
        batch.Execute();
        return new ShardSnapshot(shard, (long)await stock, await open, (long?)await failed ?? 0);
    }
}
