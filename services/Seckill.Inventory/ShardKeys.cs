using StackExchange.Redis;

namespace Seckill.Inventory;

/// <summary>
/// Key layout of one shard of one campaign. Every key shares the hash tag <c>{sk:campaign:shard}</c>,
/// so each Lua script touches one slot and runs unchanged on Redis Cluster.
/// </summary>
public readonly record struct ShardKeys(Guid CampaignId, int Shard)
{
    private string Tag => $"{{sk:{CampaignId:N}:{Shard}}}";

    /// <summary>Units of virtual inventory left on this shard.</summary>
    public RedisKey Stock => $"{Tag}:stock";

    /// <summary>
    /// Reserved tokens whose message the broker has not confirmed yet, scored by acceptance time in
    /// ms: the sweeper's index of purchases that may never have been handed off.
    /// </summary>
    public RedisKey Unsent => $"{Tag}:unsent";

    /// <summary>How many tokens of this shard are not final yet (reserved, queued or claimed).</summary>
    public RedisKey Pending => $"{Tag}:pending";

    /// <summary>Buyers' markers on other shards still to be forgotten after a release here (<c>home:reservation:user</c>).</summary>
    public RedisKey Unmark => $"{Tag}:unmark";

    /// <summary>How many tokens of this shard ended failed or expired.</summary>
    public RedisKey Failed => $"{Tag}:failed";

    public RedisKey Token(Guid reservationId) => $"{Tag}:token:{reservationId:N}";

    /// <summary>
    /// Matches every key of this shard and no other: the tag ends in <c>}</c> right after the shard
    /// number, so shard 1 never matches shard 10, and campaign ids have a fixed length.
    /// </summary>
    public RedisValue AllKeysPattern => $"{Tag}:*";

    /// <summary>A buyer's marker; it lives on the buyer's home shard and names their one reservation.</summary>
    public RedisKey Buyer(string userId) => $"{Tag}:buyer:{userId}";
}
