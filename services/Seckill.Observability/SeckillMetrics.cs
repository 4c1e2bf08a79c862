using System.Diagnostics.Metrics;

namespace Seckill.Observability;

/// <summary>
/// The "Seckill" meter of one process (intake or worker), made through the host's
/// <see cref="IMeterFactory"/>. The recording methods are what the hot path calls: one
/// <c>Add</c>/<c>Record</c> with at most one tag, no allocation beyond the tag.
/// </summary>
public sealed class SeckillMetrics
{
    public const string MeterName = "Seckill";

    private readonly Counter<long> _purchases;
    private readonly Histogram<double> _reserveDuration;
    private readonly Histogram<double> _publishDuration;
    private readonly Histogram<int> _batchSize;
    private readonly Counter<long> _ordersWritten;
    private readonly Histogram<double> _writeDuration;
    private readonly Counter<long> _compensations;
    private readonly Counter<long> _handedOff;
    private readonly Counter<long> _paymentsExpired;

    public SeckillMetrics(IMeterFactory meters)
    {
        Meter = meters.Create(MeterName);
        _purchases = Meter.CreateCounter<long>("seckill.purchases", "{purchase}", "Purchase answers by outcome.");
        _reserveDuration = Meter.CreateHistogram<double>("seckill.reserve.duration", "s", "Reserving one unit in Redis (all shard attempts).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _publishDuration = Meter.CreateHistogram<double>("seckill.publish.duration", "s", "Publishing one group-commit message until the broker confirms.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _batchSize = Meter.CreateHistogram<int>("seckill.group_commit.batch_size", "{purchase}", "Purchases per group-commit message.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] });
        _ordersWritten = Meter.CreateCounter<long>("seckill.orders.written", "{order}", "Orders inserted into PostgreSQL.");
        _writeDuration = Meter.CreateHistogram<double>("seckill.orders.write.duration", "s", "One order-writing transaction.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _compensations = Meter.CreateCounter<long>("seckill.compensations", "{reservation}", "Reservations ended without an order, by reason.");
        _handedOff = Meter.CreateCounter<long>("seckill.sweeper.handed_off", "{reservation}", "Reservations no intake handed off, published by the sweeper.");
        _paymentsExpired = Meter.CreateCounter<long>("seckill.payments.expired", "{order}", "Orders expired unpaid.");
    }

    /// <summary>For observable instruments of the process (the intake's per-shard stock gauge).</summary>
    public Meter Meter { get; }

    // Sub-millisecond Redis calls to multi-second broker stalls.
    private static readonly double[] LatencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    public void Purchase(string outcome) => _purchases.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Reserved(TimeSpan elapsed) => _reserveDuration.Record(elapsed.TotalSeconds);

    public void Published(int purchases, TimeSpan elapsed)
    {
        _batchSize.Record(purchases);
        _publishDuration.Record(elapsed.TotalSeconds);
    }

    public void OrdersWritten(int orders, TimeSpan elapsed)
    {
        _ordersWritten.Add(orders);
        _writeDuration.Record(elapsed.TotalSeconds);
    }

    public void Compensated(string reason) => _compensations.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void HandedOff(int reservations) => _handedOff.Add(reservations);

    public void PaymentsExpired(int orders) => _paymentsExpired.Add(orders);
}

/// <summary>The outcome tag values of <c>seckill.purchases</c>.</summary>
public static class PurchaseOutcomes
{
    public const string Accepted = "accepted";
    public const string SoldOut = "sold-out";
    public const string AlreadyPurchased = "already-purchased";
    public const string Ended = "ended";
    public const string NotStarted = "not-started";
    public const string Throttled = "throttled";
    public const string Invalid = "invalid";
    public const string NotFound = "not-found";
    public const string Unavailable = "unavailable";
}
