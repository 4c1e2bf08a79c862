using Seckill.Data;
using Seckill.Inventory;

namespace Seckill.Intake.Campaigns;

public sealed record ShardView(int Index, long VirtualStock);

public sealed record CampaignCounts(long Confirmed, long Pending, long Failed);

/// <summary>
/// The campaign as admins see it: virtual stock read live from every shard, confirmed orders from
/// PostgreSQL's real-inventory counter, pending and failed from the tokens in Redis.
/// </summary>
public sealed record CampaignView(
    Guid Id,
    string Name,
    int Stock,
    DateTimeOffset StartsAt,
    DateTimeOffset? EndsAt,
    string Status,
    IReadOnlyList<ShardView> Shards,
    CampaignCounts Counts)
{
    public static CampaignView From(Campaign campaign, IReadOnlyList<ShardSnapshot> shards, DateTimeOffset now) => new(
        campaign.Id,
        campaign.Name,
        campaign.TotalStock,
        campaign.StartsAt,
        campaign.EndsAt,
        StatusOf(campaign, now),
        [.. shards.Select(s => new ShardView(s.Index, s.VirtualStock))],
        new CampaignCounts(campaign.Sold, shards.Sum(s => s.Open), shards.Sum(s => s.Failed)));

    private static string StatusOf(Campaign campaign, DateTimeOffset now) => campaign switch
    {
        { InventoryLoadedAt: null } => "loading",
        _ when now < campaign.StartsAt => "scheduled",
        { EndsAt: { } ends } when now >= ends => "ended",
        _ => "open",
    };
}
