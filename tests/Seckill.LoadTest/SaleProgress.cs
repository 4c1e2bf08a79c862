using System.Diagnostics;

namespace Seckill.LoadTest;

/// <summary>Stopwatch ticks since the sale started: one time base for answers, samples and the drain.</summary>
public sealed class SaleClock
{
    public long Start { get; } = Stopwatch.GetTimestamp();

    public long Ticks => Stopwatch.GetTimestamp() - Start;

    public double Seconds => ToSeconds(Ticks);

    public static double ToSeconds(long ticks) => (double)ticks / Stopwatch.Frequency;

    public static double ToMilliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}

/// <summary>Counters the live display and the sampler read while requests are in flight.</summary>
public sealed class SaleProgress(SaleClock clock)
{
    private readonly long[] _byStatus = new long[600];
    private readonly LatencyHistogram _latency = new();
    private long _sent;
    private long _answered;
    private long _accepted;
    private string _phase = "sale";

    public SaleClock Clock => clock;

    /// <summary>What the run is doing: the sample's phase and the live display's title.</summary>
    public string Phase
    {
        get => Volatile.Read(ref _phase);
        set => Volatile.Write(ref _phase, value);
    }

    public long SentCount => Interlocked.Read(ref _sent);

    public long AnsweredCount => Interlocked.Read(ref _answered);

    public long AcceptedCount => Interlocked.Read(ref _accepted);

    public long InFlight => SentCount - AnsweredCount;

    public double P99Milliseconds => _latency.Percentile(0.99);

    public void Sent() => Interlocked.Increment(ref _sent);

    public void Answered(PurchaseAnswer answer, long latencyTicks)
    {
        Interlocked.Increment(ref _byStatus[Math.Clamp(answer.Status, 0, _byStatus.Length - 1)]);
        if (answer.Status == 202)
        {
            Interlocked.Increment(ref _accepted);
        }

        if (answer.Status != 0)
        {
            _latency.Record(latencyTicks);
        }

        Interlocked.Increment(ref _answered);
    }

    /// <summary>Answer counts by HTTP status, 0 meaning no answer came.</summary>
    public IEnumerable<(int Status, long Count)> ByStatus()
    {
        for (var status = 0; status < _byStatus.Length; status++)
        {
            var count = Interlocked.Read(ref _byStatus[status]);
            if (count > 0)
            {
                yield return (status, count);
            }
        }
    }
}

/// <summary>
/// Log-scaled buckets (32 per doubling of microseconds, ~2 % wide) so the live p99 costs one
/// interlocked increment per answer; the report computes exact percentiles from all answers.
/// </summary>
public sealed class LatencyHistogram
{
    private const double BucketsPerDoubling = 32;
    private readonly long[] _buckets = new long[40 * (int)BucketsPerDoubling];
    private long _count;

    public void Record(long ticks)
    {
        var micros = Math.Max(0, ticks * 1_000_000.0 / Stopwatch.Frequency);
        var bucket = Math.Min(_buckets.Length - 1, (int)(Math.Log2(micros + 1) * BucketsPerDoubling));
        Interlocked.Increment(ref _buckets[bucket]);
        Interlocked.Increment(ref _count);
    }

    public double Percentile(double fraction)
    {
        var count = Interlocked.Read(ref _count);
        if (count == 0)
        {
            return 0;
        }

        var rank = (long)Math.Ceiling(fraction * count);
        long seen = 0;
        for (var bucket = 0; bucket < _buckets.Length; bucket++)
        {
            seen += Interlocked.Read(ref _buckets[bucket]);
            if (seen >= rank)
            {
                return (Math.Pow(2, (bucket + 1) / BucketsPerDoubling) - 1) / 1000;
            }
        }

        return (Math.Pow(2, _buckets.Length / BucketsPerDoubling) - 1) / 1000;
    }
}
