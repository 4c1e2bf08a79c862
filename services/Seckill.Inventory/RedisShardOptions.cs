using System.ComponentModel.DataAnnotations;

namespace Seckill.Inventory;

/// <summary>The patent's m cache servers: one StackExchange.Redis configuration string per endpoint.</summary>
public sealed class RedisShardOptions
{
    public const string Section = "Seckill:Redis";

    /// <summary>
    /// Shard i of a campaign lives on <c>Shards[i % Shards.Count]</c>. An entry may list several
    /// nodes of one Redis Cluster; every script touches a single hash tag, so it runs unchanged there.
    /// </summary>
    [Required, MinLength(1)]
    public required IReadOnlyList<string> Shards { get; init; }

    [Range(100, 60_000)]
    public int ConnectTimeoutMilliseconds { get; init; } = 5_000;

    [Range(100, 60_000)]
    public int CommandTimeoutMilliseconds { get; init; } = 5_000;
}
