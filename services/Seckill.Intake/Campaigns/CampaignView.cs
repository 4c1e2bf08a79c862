using Seckill.Data;
using Seckill.Inventory;

namespace Seckill.Intake.Campaigns;

public sealed record ShardView(int Index, long VirtualStock);

/// <param name="Confirmed">Orders that hold a unit of the real inventory: awaiting payment or paid (PostgreSQL's <c>sold</c>).</param>
public sealed record CampaignCounts(long Confirmed, long Pending, long Failed, long AwaitingPayment, long Paid, long PaymentExpired);

/// <summary>The campaign's orders by status, from PostgreSQL.</summary>
public sealed record OrderCounts(long AwaitingPayment, long Paid, long PaymentExpired);

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
    int PaymentWindow,
    IReadOnlyList<ShardView> Shards,
    CampaignCounts Counts)
{
    public static CampaignView From(Campaign campaign, IReadOnlyList<ShardSnapshot> shards, OrderCounts orders, DateTimeOffset now) => new(
        campaign.Id,
        campaign.Name,
        campaign.TotalStock,
        campaign.StartsAt,
        campaign.EndsAt,
        StatusOf(campaign, now),
        EndOf(campaign, now),
        campaign.PaymentWindowSeconds,
        [.. shards.Select(s => new ShardView(s.Index, s.VirtualStock))],
        new CampaignCounts(campaign.Sold, shards.Sum(s => s.Open), shards.Sum(s => s.Failed), orders.AwaitingPayment, orders.Paid, orders.PaymentExpired));

    public static CampaignView Archived(Campaign campaign, OrderCounts orders, DateTimeOffset now) => new(
        campaign.Id,
        campaign.Name,
        campaign.TotalStock,
        campaign.StartsAt,
        campaign.EndsAt,
        StatusOf(campaign, now),
        EndOf(campaign, now),
        campaign.PaymentWindowSeconds,
        [],
        new CampaignCounts(campaign.Sold, 0, campaign.FailedReservations ?? 0, orders.AwaitingPayment, orders.Paid, orders.PaymentExpired));

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
