using Seckill.Data;
using Seckill.Inventory;

namespace Seckill.Intake.Campaigns;

public sealed record ShardView(int Index, long VirtualStock);

public sealed record CampaignCounts(long Confirmed, long Pending, long Failed);

/// <summary>
/// The campaign as admins see it: virtual stock read live from every shard, confirmed orders from
/// PostgreSQL's real-inventory counter, pending and failed from the tokens in Redis. Once archived
/// (its keys deleted after the retention period) it answers from PostgreSQL alone: no shards, nothing
/// pending, the failed count kept from the shards' last counters.
/// </summary>
/// <param name="EndedAt">When the sale stopped taking purchases (an admin's end, or the scheduled end once passed); null while it runs.</param>
public sealed record CampaignView(
    Guid Id,
    string Name,
    int Stock,
    DateTimeOffset StartsAt,
    DateTimeOffset? EndsAt,
    string Status,
    DateTimeOffset? EndedAt,
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
        EndOf(campaign, now),
        [.. shards.Select(s => new ShardView(s.Index, s.VirtualStock))],
        new CampaignCounts(campaign.Sold, shards.Sum(s => s.Open), shards.Sum(s => s.Failed)));

    public static CampaignView Archived(Campaign campaign, DateTimeOffset now) => new(
        campaign.Id,
        campaign.Name,
        campaign.TotalStock,
        campaign.StartsAt,
        campaign.EndsAt,
        StatusOf(campaign, now),
        EndOf(campaign, now),
        [],
        new CampaignCounts(campaign.Sold, 0, campaign.FailedReservations ?? 0));

    private static DateTimeOffset? EndOf(Campaign campaign, DateTimeOffset now) =>
        campaign.ClosesAt is { } closes && now >= closes ? closes : null;

    private static string StatusOf(Campaign campaign, DateTimeOffset now) => campaign switch
    {
        { ArchivedAt: not null } => "archived",
        { ClosesAt: { } closes } when now >= closes => "ended",
        { InventoryLoadedAt: null } => "loading",
        _ when now < campaign.StartsAt => "scheduled",
        _ => "open",
    };
}
