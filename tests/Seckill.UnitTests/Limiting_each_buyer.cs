using Microsoft.Extensions.Time.Testing;
using Seckill.Gateway.Limits;

namespace Seckill.UnitTests;

/// <summary>The gateway's per-buyer purchase bucket, on a fake clock.</summary>
public class Limiting_each_buyer
{
    [Fact]
    public void A_buyer_gets_the_burst_at_once_then_the_rate_and_is_told_when_the_next_unit_comes()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var buckets = new BuyerBuckets(perSecond: 2, burst: 4, time);

        Assert.Equal(4, Enumerable.Range(0, 10).Count(attempt => buckets.TryTake("alice", out _)));
        Assert.False(buckets.TryTake("alice", out var wait));
        Assert.Equal(TimeSpan.FromSeconds(0.5), wait);

        time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.False(buckets.TryTake("alice", out wait));
        Assert.Equal(TimeSpan.FromSeconds(0.25), wait);
        time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.True(buckets.TryTake("alice", out _));
        Assert.False(buckets.TryTake("alice", out _));

        // Another buyer's bucket is their own.
        Assert.Equal(4, Enumerable.Range(0, 10).Count(attempt => buckets.TryTake("bob", out _)));

        // A long pause refills to the burst, never beyond it.
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(4, Enumerable.Range(0, 10).Count(attempt => buckets.TryTake("alice", out _)));
    }

    [Fact]
    public void Full_buckets_are_dropped_by_the_sweep_and_a_dropped_buyer_starts_full_not_fuller()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var buckets = new BuyerBuckets(perSecond: 1, burst: 2, time);
        for (var i = 0; i < 1000; i++)
        {
            Assert.True(buckets.TryTake($"buyer-{i}", out _));
        }

        Assert.True(buckets.TryTake("busy", out _));
        Assert.True(buckets.TryTake("busy", out _));
        Assert.Equal(1001, buckets.Tracked);

        // 1 s later the single-purchase buyers are full again (2 of 2); "busy" has 1 of 2 and stays.
        time.Advance(TimeSpan.FromSeconds(1));
        buckets.Sweep();
        Assert.Equal(1, buckets.Tracked);
        Assert.True(buckets.TryTake("busy", out _));
        Assert.False(buckets.TryTake("busy", out _));

        // The timer sweeps by itself every SweepInterval.
        Assert.True(buckets.TryTake("late", out _));
        time.Advance(BuyerBuckets.SweepInterval);
        Assert.Equal(0, buckets.Tracked);
        Assert.Equal(2, Enumerable.Range(0, 5).Count(attempt => buckets.TryTake("late", out _)));
    }

    [Fact]
    public async Task Buyers_racing_the_sweep_never_get_more_than_the_burst()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var buckets = new BuyerBuckets(perSecond: 1, burst: 3, time);
        for (var round = 0; round < 500; round++)
        {
            // Every bucket is full again, so the sweep drops each one it meets while buyers are taking from it.
            time.Advance(TimeSpan.FromSeconds(5));
            var granted = 0;
            using var start = new Barrier(5);
            var racers = Enumerable.Range(0, 4).Select(racer => Task.Run(() =>
            {
                start.SignalAndWait();
                for (var i = 0; i < 400; i++)
                {
                    if (buckets.TryTake($"buyer-{(i + racer) % 20}", out _))
                    {
                        Interlocked.Increment(ref granted);
                    }
                }
            })).ToList();
            var sweeper = Task.Run(() =>
            {
                start.SignalAndWait();
                while (!racers.All(r => r.IsCompleted))
                {
                    buckets.Sweep();
                }
            });
            await Task.WhenAll([.. racers, sweeper]);

            // The clock stood still within the round: 20 buyers × a burst of 3, however the sweep interleaved.
            Assert.Equal(60, granted);
        }
    }
}
