using System.ComponentModel.DataAnnotations;

namespace Seckill.Worker.Sweeping;

public sealed class SweeperOptions
{
    public const string Section = "Seckill:Sweeper";

    public bool Enabled { get; init; } = true;

    /// <summary>
    /// A token still pending this long was never published (its intake died between reserving and
    /// publishing, or its undo failed): it is expired and its unit returned. Far longer than a publish
    /// takes, and than a message waits in a healthy queue.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan PendingTimeout { get; init; } = TimeSpan.FromMinutes(2);

    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Tokens examined per shard and round trip.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; init; } = 500;

    /// <summary>Campaigns older than this, or ended longer ago than a day, are no longer swept.</summary>
    [Range(typeof(TimeSpan), "01:00:00", "365.00:00:00")]
    public TimeSpan CampaignHorizon { get; init; } = TimeSpan.FromDays(30);
}
