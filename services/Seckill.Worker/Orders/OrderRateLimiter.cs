using Microsoft.Extensions.Options;

namespace Seckill.Worker.Orders;

/// <summary>
/// Caps the orders this process writes per second, so PostgreSQL sees a steady stream whatever the
/// queue holds. Pacing, not a bucket: every grant of n orders moves a schedule forward by n / rate
/// and waits until its own share of time has passed, so the rate holds from the first second and
/// over any window (a stalled write is caught up, see below), for any whole rate (a bucket refilled in whole tokens per period rounded 1–4/s up
/// to 10/s). Grants are at most a tenth of a second of the rate, so a slow rate writes small batches
/// often rather than one large batch after a long wait.
/// </summary>
public sealed class OrderRateLimiter(IOptions<WorkerOptions> options, TimeProvider clock)
{
    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(100);

    // How far behind its schedule the limiter may let grants catch up, and how long without a grant counts as idle.
    private static readonly TimeSpan CatchUp = TimeSpan.FromSeconds(1);
    private readonly int _rate = options.Value.MaxOrdersPerSecond;
    private readonly Lock _schedule = new();
    private long _next;
    private long _lastAsked = long.MinValue / 2;

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
            // to every interval (7/s came out as 6.2/s). A write that stalls (a slow transaction) leaves the
            // schedule behind, and the grants after it catch up — at most a second's worth, so a database
            // that was slow for a minute is not then fed a minute's backlog at once. An idle limiter (no
            // grant asked for a second) saves up nothing: the schedule restarts from now.
            var now = clock.GetTimestamp();
            var window = (long)(CatchUp.TotalSeconds * clock.TimestampFrequency);
            due = now - _lastAsked > window ? Math.Max(now, _next) : Math.Max(_next, now - window);
            _lastAsked = now;
            _next = due + (long)Math.Round(orders * (double)clock.TimestampFrequency / _rate);
        }

        var wait = clock.GetElapsedTime(clock.GetTimestamp(), due);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, clock, cancellationToken);
        }
    }
}
