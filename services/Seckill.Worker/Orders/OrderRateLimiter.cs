using Microsoft.Extensions.Options;

namespace Seckill.Worker.Orders;

/// <summary>
/// Caps the orders this process writes per second, so PostgreSQL sees a steady stream whatever the
/// queue holds. Pacing, not a bucket: every grant of n orders moves a schedule forward by n / rate
/// and waits until its own share of time has passed, so the rate holds from the first second and
/// over any window, for any whole rate (a bucket refilled in whole tokens per period rounded 1–4/s up
/// to 10/s). Grants are at most a tenth of a second of the rate, so a slow rate writes small batches
/// often rather than one large batch after a long wait.
/// </summary>
public sealed class OrderRateLimiter(IOptions<WorkerOptions> options, TimeProvider clock)
{
    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(100);
    private readonly int _rate = options.Value.MaxOrdersPerSecond;
    private readonly Lock _schedule = new();
    private long _next;

    /// <summary>The most orders one grant covers.</summary>
    public int OrdersPerGrant => _rate == 0 ? int.MaxValue : Math.Max(1, (int)Math.Ceiling(_rate * Slice.TotalSeconds));

    public async ValueTask AcquireAsync(int orders, CancellationToken cancellationToken)
    {
        if (_rate == 0)
        {
            return;
        }

        long due;
        lock (_schedule)
        {
            // A grant starts when the one before it has had its share of time, and its own share runs while
            // its orders are written: waiting for the end of the share instead would add every write's time
            // to every interval (7/s came out as 6.2/s). An idle limiter saves up nothing: the schedule
            // restarts from now.
            due = Math.Max(clock.GetTimestamp(), _next);
            _next = due + (long)Math.Round(orders * (double)clock.TimestampFrequency / _rate);
        }

        var wait = clock.GetElapsedTime(clock.GetTimestamp(), due);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, clock, cancellationToken);
        }
    }
}
