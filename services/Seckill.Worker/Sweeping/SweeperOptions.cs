using System.ComponentModel.DataAnnotations;

namespace Seckill.Worker.Sweeping;

public sealed class SweeperOptions
{
    public const string Section = "Seckill:Sweeper";

    public bool Enabled { get; init; } = true;

    /// <summary>
    /// A reservation still not handed off this long after it was accepted has lost its intake (or its
    /// publish and undo both failed): the sweeper publishes its message itself. Any value is safe — a
    /// message published twice is written once — so this only decides how soon such a purchase moves on;
    /// longer than the intake's PublishTimeout avoids duplicate messages.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan PendingTimeout { get; init; } = TimeSpan.FromSeconds(30);

    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Reservations handed off per shard and round trip.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; init; } = 500;

    /// <summary>Campaigns swept at once; each goes through its shards one by one.</summary>
    [Range(1, 256)]
    public int CampaignConcurrency { get; init; } = 8;
}
