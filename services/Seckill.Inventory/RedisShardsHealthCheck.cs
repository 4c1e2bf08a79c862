using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Seckill.Inventory;

/// <summary>Ready only when every configured Redis endpoint answers PING: a purchase may land on any shard.</summary>
public sealed class RedisShardsHealthCheck(ShardConnections shards) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var down = await shards.UnreachableEndpointsAsync();
        return down.Count == 0
            ? HealthCheckResult.Healthy($"{shards.EndpointCount} Redis endpoint(s) answer")
            : HealthCheckResult.Unhealthy($"Redis shard endpoint(s) {string.Join(", ", down)} do not answer");
    }
}
