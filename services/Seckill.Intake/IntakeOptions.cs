using System.ComponentModel.DataAnnotations;

namespace Seckill.Intake;

public sealed class IntakeOptions
{
    public const string Section = "Seckill:Intake";

    /// <summary>
    /// How long a purchase waits for the broker's confirm. Past it the reservation is undone and the
    /// buyer gets 503 — unless a worker already has it, then 202 (see PurchaseHandler).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan PublishTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// After every shard answered empty, sold-out is answered from memory for this long. Short, so
    /// units that compensation returns become buyable again within a second.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01")]
    public TimeSpan SoldOutFlagLifetime { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Campaign metadata is cached in-process so the crowd costs PostgreSQL one query per campaign and
    /// interval. It is also how an ended sale reaches every intake: an admin's end is refused by all of
    /// them within this lifetime plus one query, hence at most 0.9 s and within a second.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:00.900")]
    public TimeSpan CampaignCacheLifetime { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Campaigns cached at most (by id and by number together). Lookups come from client input, so
    /// every id a client invents would otherwise stay in memory for good.
    /// </summary>
    [Range(16, 10_000_000)]
    public int CampaignCacheEntries { get; init; } = 10_000;

    /// <summary>Purchases handled at once by this process; beyond it and the queue, buyers get 429 instead of unbounded waiting.</summary>
    [Range(1, 1_000_000)]
    public int MaxConcurrentPurchases { get; init; } = 1024;

    [Range(0, 1_000_000)]
    public int PurchaseQueueLimit { get; init; } = 4096;

    [Range(16, 64 * 1024)]
    public int MaxPurchaseBodyBytes { get; init; } = 1024;

    /// <summary>
    /// Publishes in flight at once; while they wait for their confirms the next purchases gather into one
    /// message. One is the default: at a given rate, two loops halve every message and double what each
    /// purchase pays of the broker's per-message cost (p99 at 4,300/s here: 13–16 ms with one, 21–26 with two).
    /// </summary>
    [Range(1, 64)]
    public int PublishConcurrency { get; init; } = 1;

    /// <summary>Accepted purchases carried by one message (group commit).</summary>
    [Range(1, 4096)]
    public int MaxPurchasesPerMessage { get; init; } = 256;
}
