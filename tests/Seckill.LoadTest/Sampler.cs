using System.Globalization;

namespace Seckill.LoadTest;

/// <summary>
/// One point of the time series; rates are over the interval since the previous sample. Orders written
/// counts orders of every status; campaigns.sold only the live ones (awaiting payment or paid).
/// </summary>
public sealed record Sample(
    double Seconds,
    string Phase,
    double RequestsPerSecond,
    double AcceptedPerSecond,
    double OrdersPerSecond,
    double PaymentsPerSecond,
    double ExpiriesPerSecond,
    long? QueueDepth,
    long? OrdersWritten,
    long? Sold,
    long? Paid,
    long? PaymentExpired,
    long? UnfinishedTokens)
{
    public long? AwaitingPayment => Sold - Paid;
}

/// <summary>When the pipeline had drained, and when that was confirmed; seconds since the sale started.</summary>
/// <param name="DrainedAt">The last order written and no token left pending on any shard.</param>
/// <param name="ConfirmedAt">
/// Also the queue reported empty and campaigns.sold steady for 1 s. The management API's stats lag by
/// up to its refresh interval (5 s by default), which this includes.
/// </param>
public readonly record struct DrainTimes(double DrainedAt, double ConfirmedAt);

/// <summary>Why the wait for the drain ended without it; seconds since the sale started.</summary>
public sealed record DrainGiveUp(string Reason, double At);

/// <summary>
/// Samples every 250 ms through the whole run, and decides when the pipeline has drained: queue empty,
/// every shard's pending counter 0, and the number of orders unchanged for 1 s. Orders, not campaigns.sold:
/// an expiry lowers sold while the pipeline may be idle.
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
    private double _progressAt;

    public Sample? Latest { get; private set; }

    /// <summary>When the number of orders last changed, in seconds since the sale started; null while it has not.</summary>
    public double? OrdersChangedAt { get; private set; }

    /// <summary>The highest campaigns.sold any sample read: I1 is owed at every moment, not only at the end.</summary>
    public long MaxSold { get; private set; }

    public int ProbeFailures { get; private set; }

    /// <summary>When orders written, pending tokens or the queue depth last changed, in seconds since the sale started.</summary>
    public double ProgressAt => Volatile.Read(ref _progressAt);

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

    /// <summary>
    /// Waits for the drain as long as it makes progress: a slow, rate-limited drain may take minutes, a stuck one
    /// is given up after <paramref name="stallSeconds"/> with nothing changing. <paramref name="limitSeconds"/>
    /// (0 = none) caps the whole wait. Returns the drain's times, or why it was given up.
    /// </summary>
    public async Task<(DrainTimes? Drained, DrainGiveUp? GaveUp)> WaitForDrainAsync(
        double lastAnswerAt, double stallSeconds, double limitSeconds, CancellationToken cancellationToken)
    {
        _drainFrom = lastAnswerAt;
        // The stall is measured from the end of the sale at the earliest: a burst may stop writing orders while answers are still coming.
        Volatile.Write(ref _progressAt, Math.Max(ProgressAt, lastAnswerAt));
        var drained = new TaskCompletionSource<DrainTimes>(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _drained, drained);
        var clock = progress.Clock;
        // Checked on its own timer, not in the sampling loop, so a sample stuck on a slow store cannot stretch the wait.
        using var timer = new PeriodicTimer(Interval);
        while (!drained.Task.IsCompleted && await timer.WaitForNextTickAsync(cancellationToken))
        {
            var now = clock.Seconds;
            if (now - ProgressAt >= stallSeconds)
            {
                return (null, new DrainGiveUp(
                    string.Create(CultureInfo.InvariantCulture, $"no progress for {now - ProgressAt:F0} s (orders written, pending tokens and queue depth unchanged)"), now));
            }

            if (limitSeconds > 0 && now - lastAnswerAt >= limitSeconds)
            {
                return (null, new DrainGiveUp(string.Create(CultureInfo.InvariantCulture, $"still draining at the --drain-timeout of {limitSeconds:F0} s"), now));
            }
        }

        return (await drained.Task, null);
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval);
        var clock = progress.Clock;
        var previousAt = clock.Seconds;
        long previousSent = 0;
        long previousAccepted = 0;
        OrderProgress? previousOrders = null;
        long? queueDepth = null;
        long? previousUnfinished = null;
        long? previousQueueDepth = null;
        try
        {
            do
            {
                var now = clock.Seconds;
                var sent = progress.SentCount;
                var accepted = progress.AcceptedCount;
                var orders = await TryRead(() => probe.OrderProgressAsync(campaignId, cancellationToken)) ?? previousOrders;
                var unfinished = await TryRead<long?>(async () => await probe.UnfinishedTokensAsync(campaignId, shardCount));
                if (now - _queueDepthReadAt >= QueueDepthIntervalSeconds)
                {
                    var depth = await TryRead<long?>(async () => await probe.QueueDepthAsync(cancellationToken));
                    if (depth is not null)
                    {
                        queueDepth = depth;
                        _queueDepthReadAt = now;
                    }
                }

                var ordersChanged = orders is not null && previousOrders is not null && orders.Orders != previousOrders.Orders;
                if (ordersChanged)
                {
                    OrdersChangedAt = now;
                }

                MaxSold = Math.Max(MaxSold, orders?.Sold ?? 0);

                // Any movement counts: orders written, tokens settled (expired or failed ones write no order) or
                // messages leaving the queue. A failed read is no evidence either way.
                if (ordersChanged
                    || (unfinished is not null && previousUnfinished is not null && unfinished != previousUnfinished)
                    || (queueDepth is not null && previousQueueDepth is not null && queueDepth != previousQueueDepth))
                {
                    Volatile.Write(ref _progressAt, now);
                }

                _noTokensSince = unfinished == 0 ? _noTokensSince ?? now : null;

                var elapsed = now - previousAt;
                var drained = Volatile.Read(ref _drained);
                var before = previousOrders ?? orders;
                var sample = new Sample(
                    Math.Round(now, 3),
                    progress.Phase,
                    Rate(sent - previousSent, elapsed),
                    Rate(accepted - previousAccepted, elapsed),
                    Rate((orders?.Orders ?? 0) - (before?.Orders ?? 0), elapsed),
                    Rate((orders?.Paid ?? 0) - (before?.Paid ?? 0), elapsed),
                    Rate((orders?.PaymentExpired ?? 0) - (before?.PaymentExpired ?? 0), elapsed),
                    queueDepth,
                    orders?.Orders,
                    orders?.Sold,
                    orders?.Paid,
                    orders?.PaymentExpired,
                    unfinished);
                lock (_samplesLock)
                {
                    _samples.Add(sample);
                }

                Latest = sample;
                previousAt = now;
                previousSent = sent;
                previousAccepted = accepted;
                previousOrders = orders;
                previousUnfinished = unfinished ?? previousUnfinished;
                previousQueueDepth = queueDepth;

                if (drained is not null && !drained.Task.IsCompleted
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
    private async Task<T?> TryRead<T>(Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            ProbeFailures++;
            return default;
        }
    }
}
