using StackExchange.Redis;

namespace Seckill.Inventory;

/// <summary>
/// The end of a campaign's life in Redis: whether a shard has anything left to decide, and deleting
/// every key of a shard once nothing is. Keys are found by their hash tag, which no other campaign or
/// shard shares, so a live campaign's keys can never match.
/// </summary>
public sealed class ShardArchive(ShardConnections shards)
{
    private const int ScanPage = 1_000;

    /// <summary>
    /// True when no token of the shard waits for a decision (none reserved, queued or claimed), none
    /// waits to be handed off, and no buyer's marker on another shard waits to be forgotten.
    /// A shard whose keys are already gone is final too: a resumed deletion finds it so.
    /// </summary>
    public async Task<bool> IsFinalAsync(Guid campaignId, int shard)
    {
        var keys = new ShardKeys(campaignId, shard);
        var batch = shards.ForShard(shard).CreateBatch();
        var pending = batch.StringGetAsync(keys.Pending);
        var unsent = batch.SortedSetLengthAsync(keys.Unsent);
        var unmark = batch.SetLengthAsync(keys.Unmark);
        batch.Execute();
        return ((long?)await pending ?? 0) == 0 && await unsent == 0 && await unmark == 0;
    }

    /// <summary>How many of the shard's tokens ended failed or expired (0 once its keys are gone).</summary>
    public async Task<long> ReadFailedAsync(Guid campaignId, int shard) =>
        (long?)await shards.ForShard(shard).StringGetAsync(new ShardKeys(campaignId, shard).Failed) ?? 0;

    /// <summary>
    /// Deletes every key of the shard, page by page; safe to run again after an interruption (what
    /// was deleted is simply not found). On a Redis Cluster every primary is scanned, and only the one
    /// owning the shard's slot holds matches. Returns how many keys were deleted.
    /// </summary>
    public async Task<long> DeleteKeysAsync(Guid campaignId, int shard, CancellationToken cancellationToken)
    {
        var keys = new ShardKeys(campaignId, shard);
        var db = shards.ForShard(shard);
        var pattern = keys.AllKeysPattern;
        long deleted = 0;
        foreach (var server in db.Multiplexer.GetServers().Where(s => s.IsConnected && !s.IsReplica))
        {
            var page = new List<RedisKey>(ScanPage);
            await foreach (var key in server.KeysAsync(db.Database, pattern, ScanPage).WithCancellation(cancellationToken))
            {
                page.Add(key);
                if (page.Count == ScanPage)
                {
                    deleted += await db.KeyDeleteAsync([.. page]);
                    page.Clear();
                }
            }

            if (page.Count > 0)
            {
                deleted += await db.KeyDeleteAsync([.. page]);
            }
        }

        return deleted;
    }
}
