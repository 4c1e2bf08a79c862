namespace Seckill.LoadTest;

/// <summary>One point of the time series; rates are over the interval since the previous sample.</summary>
public sealed record Sample(
    double Seconds,
    string Phase,
    double RequestsPerSecond,
    double AcceptedPerSecond,
    double OrdersPerSecond,
    long? QueueDepth,
    long? OrdersWritten,
    long? UnfinishedTokens);

/// <summary>When the pipeline had drained, and when that was confirmed; seconds since the sale started.</summary>
/// <param name="DrainedAt">The last order written and no token left open or claimed.</param>
/// <param name="ConfirmedAt">
/// Also the queue reported empty and campaigns.sold steady for 1 s. The management API's stats lag by
/// up to its refresh interval (5 s by default), which this includes.
/// </param>
public readonly record struct DrainTimes(double DrainedAt, double ConfirmedAt);

/// <summary>
/// Samples every 250 ms through the sale and the drain, and decides when the pipeline has drained:
/// queue empty, no open or claimed token on any shard, and campaigns.sold unchanged for 1 s.
/// </summary>
public sealed class Sampler(SaleProgress progress, StoreProbe probe, Guid campaignId, int shardCount)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    /// <summary>The management API refreshes its stats every few seconds; asking more often only adds load.</summary>
    private const double QueueDepthIntervalSeconds = 1;

    private readonly List<Sample> _samples = [];
    private readonly Lock _samplesLock = new();
    private TaskCompletionSource<DrainTimes>? _drained;
    private double _drainFrom;
    private double _queueDepthReadAt = double.NegativeInfinity;
    private double? _noTokensSince;

    public Sample? Latest { get; private set; }

    /// <summary>When campaigns.sold last changed, in seconds since the sale started; null while it has not.</summary>
    public double? OrdersChangedAt { get; private set; }

    public int ProbeFailures { get; private set; }

    public IReadOnlyList<Sample> Samples
    {
        get
        {
            lock (_samplesLock)
            {
                return [.. _samples];
            }
        }
    }

    public Task<DrainTimes> WatchDrain(double lastAnswerAt)
    {
        _drainFrom = lastAnswerAt;
        var drained = new TaskCompletionSource<DrainTimes>(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _drained, drained);
        return drained.Task;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval);
        var clock = progress.Clock;
        var previousAt = clock.Seconds;
        long previousSent = 0;
        long previousAccepted = 0;
        long? previousSold = null;
        long? queueDepth = null;
        try
        {
            do
            {
                var now = clock.Seconds;
                var sent = progress.SentCount;
                var accepted = progress.AcceptedCount;
                var sold = await TryRead(() => probe.SoldAsync(campaignId, cancellationToken)) ?? previousSold;
                var unfinished = await TryRead(() => probe.UnfinishedTokensAsync(campaignId, shardCount));
                if (now - _queueDepthReadAt >= QueueDepthIntervalSeconds)
                {
                    var depth = await TryRead(() => probe.QueueDepthAsync(cancellationToken));
                    if (depth is not null)
                    {
                        queueDepth = depth;
                        _queueDepthReadAt = now;
                    }
                }

                if (sold != previousSold && previousSold is not null)
                {
                    OrdersChangedAt = now;
                }

                _noTokensSince = unfinished == 0 ? _noTokensSince ?? now : null;

                var elapsed = now - previousAt;
                var drained = Volatile.Read(ref _drained);
                var sample = new Sample(
                    Math.Round(now, 3),
                    drained is null ? "sale" : "drain",
                    Rate(sent - previousSent, elapsed),
                    Rate(accepted - previousAccepted, elapsed),
                    Rate((sold ?? 0) - (previousSold ?? sold ?? 0), elapsed),
                    queueDepth,
                    sold,
                    unfinished);
                lock (_samplesLock)
                {
                    _samples.Add(sample);
                }

                Latest = sample;
                previousAt = now;
                previousSent = sent;
                previousAccepted = accepted;
                previousSold = sold;

                if (drained is not null
                    && queueDepth == 0 && _queueDepthReadAt > _drainFrom
                    && unfinished == 0
                    && now - _drainFrom >= 1 && now - (OrdersChangedAt ?? 0) >= 1)
                {
                    drained.TrySetResult(new DrainTimes(Math.Max(_noTokensSince ?? now, OrdersChangedAt ?? 0), now));
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static double Rate(long delta, double seconds) => seconds > 0 ? Math.Round(delta / seconds, 1) : 0;

    /// <summary>A failed read is a gap in the chart, not the end of the run; the drain waits for a good one.</summary>
    private async Task<long?> TryRead(Func<Task<long>> read)
    {
        try
        {
            return await read();
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            ProbeFailures++;
            return null;
        }
    }
}
