using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Seckill.Worker.Orders;

/// <summary>
/// Caps the orders this process writes per second, so PostgreSQL sees a steady stream whatever the
/// queue holds. Refilled every 100 ms; it starts empty, so the rate holds from the first second.
/// </summary>
public sealed class OrderRateLimiter : IDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);
    private readonly TokenBucketRateLimiter? _bucket;

    public OrderRateLimiter(IOptions<WorkerOptions> options)
    {
        var settings = options.Value;
        if (settings.MaxOrdersPerSecond == 0)
        {
            return;
        }

        var perPeriod = Math.Max(1, (int)Math.Round(settings.MaxOrdersPerSecond * Period.TotalSeconds));
        var capacity = Math.Max(settings.BatchSize, perPeriod);
        _bucket = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = capacity,
            TokensPerPeriod = perPeriod,
            ReplenishmentPeriod = Period,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
        using var drained = _bucket.AttemptAcquire(capacity);
    }

    public async ValueTask AcquireAsync(int orders, CancellationToken cancellationToken)
    {
        if (_bucket is null)
        {
            return;
        }

        using var lease = await _bucket.AcquireAsync(orders, cancellationToken);
        if (!lease.IsAcquired)
        {
            throw new InvalidOperationException($"The order rate limiter refused {orders} permits.");
        }
    }

    public void Dispose() => _bucket?.Dispose();
}
