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

    /// <summary>Pending tokens, scored by acceptance time in ms: the sweeper's index of what may be overdue.</summary>
    public RedisKey Open => $"{Tag}:open";

    /// <summary>Claimed tokens (an order is being written), scored by claim time in ms; the sweeper leaves them alone.</summary>
    public RedisKey Claimed => $"{Tag}:claimed";

    /// <summary>How many tokens of this shard ended failed or expired.</summary>
    public RedisKey Failed => $"{Tag}:failed";

    public RedisKey Token(Guid reservationId) => $"{Tag}:token:{reservationId:N}";

    /// <summary>A buyer's marker; it lives on the buyer's home shard and names their one reservation.</summary>
    public RedisKey Buyer(string userId) => $"{Tag}:buyer:{userId}";
}
