using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Seckill.LoadTest;

/// <summary>How a winner's checkout ended, as the generator saw it.</summary>
public enum CheckoutOutcome
{
    /// <summary>The payment was answered 200, or 409 already-paid to a retry of a payment whose answer was lost.</summary>
    Paid,

    /// <summary>Chose not to pay: the order is left to expire.</summary>
    LetExpire,

    /// <summary>The payment came after the deadline: 410 payment-expired.</summary>
    TooLate,

    /// <summary>The reservation ended without an order (its reason in the record).</summary>
    ReservationFailed,

    /// <summary>The order was not seen before the wait was given up (the drain did not complete).</summary>
    OrderNotSeen,

    /// <summary>Anything the API does not promise: a 404, an unknown status, a payment refused otherwise or never answered.</summary>
    Unexpected,
}

/// <summary>
/// One winner's checkout. <see cref="PaymentSent"/> says whether a payment request left, so an order paid
/// without one can be told from one whose answer was lost.
/// </summary>
public sealed record CheckoutRecord(int Wave, Winner Winner, bool Pays, CheckoutOutcome Outcome, bool PaymentSent, string? Detail);

/// <summary>One answer to a payment request, retries included.</summary>
public readonly record struct PaymentAttempt(short Status, short Code, long LatencyTicks);

/// <summary>
/// The winners' side of the sale: each polls its reservation until the order is written, then a share of
/// them pays after a random delay, the rest let the deadline pass. Requests share one concurrency limit.
/// </summary>
public sealed class Checkout(IntakeClient intake, LoadOptions options) : IDisposable
{
    private const int MaxPaymentAttempts = 20;
    private static readonly TimeSpan FirstPollInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxPollInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _slots = new(options.Concurrency, options.Concurrency);
    private readonly ConcurrentQueue<PaymentAttempt> _attempts = new();
    private readonly ConcurrentBag<Task<CheckoutRecord>> _started = [];
    private long _waitingForOrder;
    private long _paid;
    private long _lettingExpire;
    private long _otherwise;

    public long WaitingForOrder => Interlocked.Read(ref _waitingForOrder);

    public long Paid => Interlocked.Read(ref _paid);

    public long LettingExpire => Interlocked.Read(ref _lettingExpire);

    /// <summary>Too late, failed, not seen or unexpected.</summary>
    public long Otherwise => Interlocked.Read(ref _otherwise);

    public IReadOnlyCollection<PaymentAttempt> Attempts => _attempts;

    /// <summary>
    /// Checks out every winner of wave <paramref name="wave"/> (0: the sale), each paying with probability
    /// <paramref name="payShare"/>. The choices and delays come from a seeded generator over the winners in
    /// buyer order, so the same winners make the same choices. <paramref name="stopWaiting"/> ends the polls
    /// of orders not written yet.
    /// </summary>
    public async Task<CheckoutRecord[]> RunAsync(int wave, IEnumerable<Winner> winners, double payShare, CancellationToken stopWaiting)
    {

        var ordered = winners.OrderBy(w => w.Buyer).ThenBy(w => w.ReservationId).ToArray();
        var random = new Random(SaleRunner.Seed + wave);
        var plans = ordered.Select(w => (Winner: w, Pays: random.NextDouble() < payShare, Delay: random.NextDouble() * options.PayDelayMaxSeconds)).ToArray();
        Interlocked.Add(ref _waitingForOrder, plans.Length);
        return await Task.WhenAll(plans.Select(p => CheckOutAsync(wave, p.Winner, p.Pays, TimeSpan.FromSeconds(p.Delay), stopWaiting)));
    }

    /// <summary>
    /// Starts one winner of the sale on their checkout at once, as a buyer would, while the sale still runs.
    /// The choice to pay and the delay come from a generator seeded by the buyer's number, so the same buyer
    /// makes the same choice whatever order the answers came in. <see cref="CollectStartedAsync"/> collects them.
    /// </summary>
    public void Begin(Winner winner, double payShare, CancellationToken stopWaiting)
    {
        var random = new Random(unchecked((SaleRunner.Seed * 7919) + winner.Buyer));
        var pays = random.NextDouble() < payShare;
        var delay = TimeSpan.FromSeconds(random.NextDouble() * options.PayDelayMaxSeconds);
        Interlocked.Increment(ref _waitingForOrder);
        _started.Add(CheckOutAsync(0, winner, pays, delay, stopWaiting));
    }

    /// <summary>The checkouts <see cref="Begin"/> started, once they have ended.</summary>
    public Task<CheckoutRecord[]> CollectStartedAsync() => Task.WhenAll(_started);

    public void Dispose() => _slots.Dispose();

    private async Task<CheckoutRecord> CheckOutAsync(int wave, Winner winner, bool pays, TimeSpan delay, CancellationToken stopWaiting)
    {
        var record = await CheckOutCoreAsync(wave, winner, pays, delay, stopWaiting);
        switch (record.Outcome)
        {
            case CheckoutOutcome.Paid:
                Interlocked.Increment(ref _paid);
                break;
            case CheckoutOutcome.LetExpire:
                Interlocked.Increment(ref _lettingExpire);
                break;
            default:
                Interlocked.Increment(ref _otherwise);
                break;
        }

        return record;
    }

    private async Task<CheckoutRecord> CheckOutCoreAsync(int wave, Winner winner, bool pays, TimeSpan delay, CancellationToken stopWaiting)
    {
        CheckoutRecord End(CheckoutOutcome outcome, bool sent = false, string? detail = null) => new(wave, winner, pays, outcome, sent, detail);

        try
        {
            for (var interval = FirstPollInterval; ; interval = Min(interval * 2, MaxPollInterval))
            {
                var answer = await InSlotAsync(() => intake.GetReservationAsync(winner.ReservationId, winner.Buyer, stopWaiting), stopWaiting);
                switch (answer.HttpStatus, answer.Status)
                {
                    case (200, "awaiting-payment"):
                        break;
                    case (200, "failed"):
                        return End(CheckoutOutcome.ReservationFailed, detail: answer.Reason);
                    case (200, "pending") or (0 or 429 or 503, _):
                        await Task.Delay(interval, stopWaiting);
                        continue;
                    case (200, var status):
                        // Paid or expired before this buyer paid, or a status the API does not name.
                        return End(CheckoutOutcome.Unexpected, detail: Format($"reservation {status} before any payment"));
                    default:
                        return End(CheckoutOutcome.Unexpected, detail: Format($"reservation read answered {answer.HttpStatus}"));
                }

                break;
            }
        }
        catch (OperationCanceledException) when (stopWaiting.IsCancellationRequested)
        {
            return End(CheckoutOutcome.OrderNotSeen);
        }
        finally
        {
            Interlocked.Decrement(ref _waitingForOrder);
        }

        if (!pays)
        {
            return End(CheckoutOutcome.LetExpire);
        }

        // The deadline runs from the order's write, which the poll saw; the buyer's delay runs from there too.
        await Task.Delay(delay, CancellationToken.None);
        var reference = Format($"load-{winner.ReservationId:N}");
        for (var attempt = 1; attempt <= MaxPaymentAttempts; attempt++)
        {
            // Timed inside the slot: the wait for one is the generator's queue, not the intake's latency.
            var latency = 0L;
            var answer = await InSlotAsync(
                async () =>
                {
                    var sentAt = Stopwatch.GetTimestamp();
                    var paid = await intake.PayAsync(winner.ReservationId, winner.Buyer, reference, CancellationToken.None);
                    latency = Stopwatch.GetTimestamp() - sentAt;
                    return paid;
                },
                CancellationToken.None);
            _attempts.Enqueue(new PaymentAttempt((short)answer.Status, (short)answer.Code, latency));
            switch (answer.Status)
            {
                case 200:
                    return End(CheckoutOutcome.Paid, sent: true);
                // Only a retry can meet its own earlier payment; on a first attempt it is someone else's.
                case 409 when answer.Code == ProblemCodes.AlreadyPaid:
                    return attempt > 1
                        ? End(CheckoutOutcome.Paid, sent: true, detail: "already-paid on a retry")
                        : End(CheckoutOutcome.Unexpected, sent: true, detail: "already-paid on the first attempt");
                case 410 when answer.Code == ProblemCodes.PaymentExpired:
                    return End(CheckoutOutcome.TooLate, sent: true);
                case 410 when answer.Code == ProblemCodes.ReservationFailed:
                    return End(CheckoutOutcome.ReservationFailed, sent: true, detail: "reservation-failed on payment");
                case 409 when answer.Code == ProblemCodes.NotReady:
                case 0 or 429 or 503:
                    await Task.Delay(Clamp(answer.RetryAfter ?? DefaultRetryAfter), CancellationToken.None);
                    break;
                default:
                    return End(CheckoutOutcome.Unexpected, sent: true, detail: Format($"payment answered {answer.Status}"));
            }
        }

        return End(CheckoutOutcome.Unexpected, sent: true, detail: Format($"payment unanswered after {MaxPaymentAttempts} attempts"));
    }

    private async Task<T> InSlotAsync<T>(Func<Task<T>> request, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            return await request();
        }
        finally
        {
            _slots.Release();
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>A Retry-After in the past, or absurdly far ahead, still gets a sane wait.</summary>
    private static TimeSpan Clamp(TimeSpan wait) => wait < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : Min(wait, TimeSpan.FromSeconds(10));

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
