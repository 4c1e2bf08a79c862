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

    public DateTimeOffset? EndsAt { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Null until every shard holds its virtual stock; such a campaign is not on sale yet.</summary>
    public DateTimeOffset? InventoryLoadedAt { get; set; }

    /// <summary>The admin's Idempotency-Key of the creating request, so a retried creation finds this row.</summary>
    public string? CreationKey { get; init; }
}
