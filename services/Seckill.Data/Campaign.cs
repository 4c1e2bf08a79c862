namespace Seckill.Data;

public sealed class Campaign
{
    public Guid Id { get; init; }

    /// <summary>A small sequential number, carried inside reservation ids so a token can be found from its id alone.</summary>
    public int Number { get; init; }

    public required string Name { get; init; }

    public int TotalStock { get; init; }

    /// <summary>Real inventory already deducted; the guard <c>sold + n &lt;= total_stock</c> keeps it within stock.</summary>
    public int Sold { get; set; }

    public int ShardCount { get; init; }

    public DateTimeOffset StartsAt { get; init; }

    /// <summary>The scheduled end of the sale; null runs until the stock is gone or an admin ends it.</summary>
    public DateTimeOffset? EndsAt { get; init; }

    /// <summary>How long a buyer has to pay once the order is written; past it the order expires and its unit is sold again.</summary>
    public int PaymentWindowSeconds { get; init; } = 600;

    /// <summary>When an admin ended the sale early; null while it runs to its schedule.</summary>
    public DateTimeOffset? EndedAt { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Null until every shard holds its virtual stock; such a campaign is not on sale yet.</summary>
    public DateTimeOffset? InventoryLoadedAt { get; set; }

    /// <summary>
    /// Set once the sale has ended and every reservation on every shard is final: nothing can change
    /// in Redis any more, so the sweeper stops visiting it and its retention period starts.
    /// </summary>
    public DateTimeOffset? SettledAt { get; set; }

    /// <summary>Set once housekeeping deleted the campaign's keys on every shard; it is then answered from PostgreSQL alone.</summary>
    public DateTimeOffset? ArchivedAt { get; set; }

    /// <summary>The worker deleting the campaign's keys holds them until then; a crashed one's lease runs out and another resumes.</summary>
    public DateTimeOffset? HousekeepingLeaseUntil { get; set; }

    /// <summary>Reservations that ended failed, summed over the shards just before their counters were deleted.</summary>
    public long? FailedReservations { get; set; }

    /// <summary>When the sale stops taking purchases: the early end if an admin ended it, else the schedule.</summary>
    public DateTimeOffset? ClosesAt => EndedAt ?? EndsAt;

    /// <summary>The admin's Idempotency-Key of the creating request, so a retried creation finds this row.</summary>
    public string? CreationKey { get; init; }
}
