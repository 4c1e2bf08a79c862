using Microsoft.Extensions.Options;

namespace Seckill.Inventory;

/// <summary>
/// Waits out a cross-shard search another request of the same buyer is making. Its hold marker on the
/// buyer's home shard is replaced by the reservation it found or deleted when it found none, and expires
/// with its ttl (<see cref="ReservationOptions.HoldTimeout"/>) if its intake died: so the wait ends by
/// then at the latest, and only a request that met a hold ever waits.
/// </summary>
public sealed class SearchWatch(ShardConnections shards, IOptions<ReservationOptions> options, TimeProvider clock)
{
    // A search is a few script calls; short polls first, then backing off keeps a long one cheap.
    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan LongestPoll = TimeSpan.FromMilliseconds(50);

    /// <summary>True once the buyer's marker no longer holds <paramref name="hold"/>; false if the hold's ttl passed first.</summary>
    public async Task<bool> AwaitSettledAsync(CampaignShards campaign, string userId, string hold)
    {
        var home = HomeShard.Of(userId, campaign.ShardCount);
        var marker = new ShardKeys(campaign.Id, home).Buyer(userId);
        var db = shards.ForShard(home);
        var deadline = clock.GetUtcNow() + options.Value.HoldTimeout;
        var pause = FirstPoll;
        while (true)
        {
            await Task.Delay(pause, clock);
            if ((string?)await db.StringGetAsync(marker) != hold)
            {
                return true;
            }

            if (clock.GetUtcNow() >= deadline)
            {
                return false;
            }

            pause = pause * 2 < LongestPoll ? pause * 2 : LongestPoll;
        }
    }
}
