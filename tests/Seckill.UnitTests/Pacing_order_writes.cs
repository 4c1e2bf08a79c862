using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Seckill.Worker;
using Seckill.Worker.Orders;

namespace Seckill.UnitTests;

/// <summary>
/// The limiter's schedule on a fake clock, one order per grant at 10/s: a grant is "immediate" when
/// it did not have to wait. What matters for the rate is how many grants a moment allows at once.
/// </summary>
public class Pacing_order_writes
{
    private readonly FakeTimeProvider _clock = new();
    private readonly OrderRateLimiter _limiter;

    public Pacing_order_writes() =>
        _limiter = new OrderRateLimiter(Options.Create(new WorkerOptions { MaxOrdersPerSecond = 10 }), _clock);

    [Fact]
    public void Grants_follow_the_rate()
    {
        var grants = Take(5);
        Assert.Equal(1, Done(grants));
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(2, Done(grants));
        _clock.Advance(TimeSpan.FromMilliseconds(300));
        Assert.Equal(5, Done(grants));
    }

    [Fact]
    public void A_write_that_stalled_is_caught_up()
    {
        Assert.Equal(1, Done(Take(1)));
        _clock.Advance(TimeSpan.FromMilliseconds(600));

        // Due at 0.1, 0.2, … 0.6 s: six grants are owed by now, so the rate over the stall holds.
        Assert.Equal(6, Done(Take(10)));
    }

    [Fact]
    public void An_idle_limiter_saves_nothing_up()
    {
        Assert.Equal(1, Done(Take(1)));
        _clock.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(1, Done(Take(10)));
    }

    [Fact]
    public void A_long_slow_spell_is_caught_up_by_one_second_at_most()
    {
        Assert.Equal(1, Done(Take(1)));
        // Writes taking 0.5 s each for 20 s: the limiter falls further behind with every one.
        for (var i = 0; i < 40; i++)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(500));
            Assert.Equal(1, Done(Take(1)));
        }

        // Writes are fast again: a second's worth at once at most, not the 20 s of grants the spell missed.
        Assert.Equal(10, Done(Take(100)));
    }

    /// <summary>Asks for <paramref name="count"/> grants of one order at the current fake time.</summary>
    private List<Task> Take(int count) =>
        [.. Enumerable.Range(0, count).Select(_ => _limiter.AcquireAsync(1, CancellationToken.None).AsTask())];

    private static int Done(List<Task> grants) => grants.Count(g => g.IsCompleted);
}
