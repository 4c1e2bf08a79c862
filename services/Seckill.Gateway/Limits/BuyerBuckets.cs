using System.Collections.Concurrent;

namespace Seckill.Gateway.Limits;

/// <summary>
/// A token bucket per buyer (<c>sub</c>) on purchases that costs nothing between a buyer's requests. ASP.NET
/// Core's partitioned limiter refills every live partition on a 100 ms heartbeat; a flash-sale crowd is all
/// distinct buyers, so that scan grew with the crowd and took 9 % of the gateway's CPU on the accept path
/// (docs/benchmarks.md). Here a bucket is refilled only when its buyer comes back, from the time since their
/// last request, and buckets that have refilled completely are dropped by a sweep every
/// <see cref="SweepInterval"/>: a full bucket is the same as none.
/// </summary>
public sealed class BuyerBuckets : IDisposable
{
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly double _perSecond;
    private readonly double _burst;
    private readonly ITimer _sweeper;

    public BuyerBuckets(int perSecond, int burst, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perSecond, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        _perSecond = perSecond;
        _burst = burst;
        _time = time;
        _sweeper = time.CreateTimer(_ => Sweep(), null, SweepInterval, SweepInterval);
    }

    /// <summary>Buyers whose bucket is not full (tests and the sweep's own check).</summary>
    public int Tracked => _buckets.Count;

    /// <summary>Takes one purchase from <paramref name="buyer"/>'s bucket; when it is empty, how long until one is back.</summary>
    public bool TryTake(string buyer, out TimeSpan retryAfter)
    {
        var now = _time.GetTimestamp();
        while (true)
        {
            var bucket = _buckets.GetOrAdd(buyer, static (_, state) => new Bucket(state.Burst, state.Now), (Burst: _burst, Now: now));
            lock (bucket)
            {
                // The sweep removed it between the lookup and the lock: a new bucket replaces it, and this
                // request must count against that one, or a buyer racing the sweep would get a fresh burst twice.
                if (bucket.Removed)
                {
                    continue;
                }

                Refill(bucket, now);
                if (bucket.Tokens >= 1)
                {
                    bucket.Tokens -= 1;
                    retryAfter = TimeSpan.Zero;
                    return true;
                }

                retryAfter = TimeSpan.FromSeconds((1 - bucket.Tokens) / _perSecond);
                return false;
            }
        }
    }

    public void Dispose() => _sweeper.Dispose();

    internal void Sweep()
    {
        var now = _time.GetTimestamp();
        foreach (var (buyer, bucket) in _buckets)
        {
            lock (bucket)
            {
                Refill(bucket, now);
                if (bucket.Tokens < _burst)
                {
                    continue;
                }

                bucket.Removed = true;
                _buckets.TryRemove(new KeyValuePair<string, Bucket>(buyer, bucket));
            }
        }
    }

    private void Refill(Bucket bucket, long now)
    {
        var elapsed = _time.GetElapsedTime(bucket.Stamp, now).TotalSeconds;
        if (elapsed > 0)
        {
            bucket.Tokens = Math.Min(_burst, bucket.Tokens + (elapsed * _perSecond));
            bucket.Stamp = now;
        }
    }

    private sealed class Bucket(double tokens, long stamp)
    {
        public double Tokens = tokens;
        public long Stamp = stamp;
        public bool Removed;
    }
}
