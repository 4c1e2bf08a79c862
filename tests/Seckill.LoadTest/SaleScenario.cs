using System.Globalization;

namespace Seckill.LoadTest;

/// <summary>How waiting for one wave's drain ended; seconds since the sale started.</summary>
public sealed record DrainOutcome(double LastAnswerAt, DrainTimes? Drained, DrainGiveUp? GaveUp);

/// <summary>
/// Waiting for the payment window to close before a resale wave: every order paid or expired, every expired
/// unit back on its shard, no reservation pending. Seconds since the sale started.
/// </summary>
public sealed record SettleOutcome(bool Settled, double From, double At, string Detail);

/// <summary>
/// One resale wave: the buyers told sold-out coming back for the units released by expiry. A wave that did not
/// run says why in <paramref name="SkippedBecause"/>; <paramref name="ReleasedUnits"/> is Σ shard stock when it started.
/// </summary>
public sealed record ResaleRun(
    int Wave, SettleOutcome? Settle, string? SkippedBecause, long ReleasedUnits, int ReturningBuyers, SaleResult? Sale, DrainOutcome? Drain);

public sealed record ScenarioResult(SaleResult Sale, DrainOutcome Drain, IReadOnlyList<ResaleRun> Resales, IReadOnlyList<CheckoutRecord> Checkouts)
{
    /// <summary>Every purchase answer of the run, the sale's and the resale waves'.</summary>
    public AnswerRecord[] AllAnswers => [.. Sale.Answers, .. Resales.SelectMany(r => r.Sale?.Answers ?? [])];

    public IEnumerable<DrainOutcome> Drains => Resales.Select(r => r.Drain).OfType<DrainOutcome>().Prepend(Drain);
}

/// <summary>
/// The whole run: the sale, its drain and checkout; then each resale wave once the payment window has closed,
/// with its own drain and checkout. The last wave's winners all pay, so the run ends with nothing left to expire.
/// </summary>
public sealed class SaleScenario(
    SaleRunner runner, Checkout checkout, Sampler sampler, StoreProbe probe, SaleProgress progress,
    LoadOptions options, Guid campaignId, int shardCount, int paymentWindowSeconds)
{
    private static readonly TimeSpan SettlePollInterval = TimeSpan.FromMilliseconds(500);

    public async Task<ScenarioResult> RunAsync(CancellationToken cancellationToken)
    {
        progress.Phase = "sale";
        using var stopWaiting = new CancellationTokenSource();
        runner.OnWinner = winner => checkout.Begin(winner, options.PayShare, stopWaiting.Token);
        var sale = await runner.RunAsync(cancellationToken);
        var (drain, checkouts) = await DrainAndCheckOutAsync(0, sale, options.PayShare, cancellationToken, stopWaiting);
        var allCheckouts = new List<CheckoutRecord>(checkouts);
        var won = sale.Winners.Select(w => w.Buyer).ToHashSet();
        var returning = new SortedSet<int>(sale.Answers.Where(a => a.Code == ProblemCodes.SoldOut).Select(a => a.Buyer));
        returning.ExceptWith(won);

        var resales = new List<ResaleRun>();
        var lastDrain = drain;
        for (var wave = 1; wave <= options.ResaleWaves; wave++)
        {
            if (lastDrain.GaveUp is not null)
            {
                resales.Add(Skipped(wave, null, "the drain before it did not complete", returning.Count));
                break;
            }

            if (returning.Count == 0)
            {
                resales.Add(Skipped(wave, null, "no buyer is left who was told sold-out", 0));
                break;
            }

            progress.Phase = Format($"payment window ({paymentWindowSeconds} s)");
            var settle = await WaitForSettleAsync(cancellationToken);
            if (!settle.Settled)
            {
                resales.Add(Skipped(wave, settle, "the payment window did not close", returning.Count));
                break;
            }

            var released = await probe.VirtualStockAsync(campaignId, shardCount);
            if (released <= 0)
            {
                resales.Add(Skipped(wave, settle, "no unit is back on the shards", returning.Count));
                break;
            }

            progress.Phase = Format($"resale {wave}");
            var returningCount = returning.Count;
            var resale = await runner.RunResaleAsync([.. returning], cancellationToken);
            var payShare = wave == options.ResaleWaves ? 1 : options.PayShare;
            var (resaleDrain, resaleCheckouts) = await DrainAndCheckOutAsync(wave, resale, payShare, cancellationToken);
            allCheckouts.AddRange(resaleCheckouts);
            returning.ExceptWith(resale.Winners.Select(w => w.Buyer));
            resales.Add(new ResaleRun(wave, settle, null, released, returningCount, resale, resaleDrain));
            lastDrain = resaleDrain;
        }

        progress.Phase = "report";
        return new ScenarioResult(sale, drain, resales, allCheckouts);
    }

    private static ResaleRun Skipped(int wave, SettleOutcome? settle, string why, int returning) => new(wave, settle, why, 0, returning, null, null);

    /// <summary>
    /// The winners poll while the pipeline drains, so the payers pay as their orders appear (the sale's winners
    /// started as each was answered 202, <paramref name="started"/> ending their polls); the polls of orders
    /// never written end when the drain is given up.
    /// </summary>
    private async Task<(DrainOutcome Drain, CheckoutRecord[] Checkouts)> DrainAndCheckOutAsync(
        int wave, SaleResult sale, double payShare, CancellationToken cancellationToken, CancellationTokenSource? started = null)
    {
        progress.Phase = wave == 0 ? "drain" : Format($"resale {wave} drain");
        using var own = started is null ? new CancellationTokenSource() : null;
        var stopWaiting = started ?? own!;
        // The sale's winners began checking out as each was answered 202: their deadlines run from orders
        // written during the sale, not from its end.
        var checkouts = started is null ? checkout.RunAsync(wave, sale.Winners, payShare, stopWaiting.Token) : checkout.CollectStartedAsync();
        var lastAnswerAt = sale.Answers.Length == 0 ? progress.Clock.Seconds : SaleClock.ToSeconds(sale.LastAnswerAt);
        var (drained, gaveUp) = await sampler.WaitForDrainAsync(lastAnswerAt, options.DrainStallSeconds, options.DrainTimeoutSeconds, cancellationToken);
        if (gaveUp is not null)
        {
            await stopWaiting.CancelAsync();
        }

        progress.Phase = wave == 0 ? "payments" : Format($"resale {wave} payments");
        return (new DrainOutcome(lastAnswerAt, drained, gaveUp), await checkouts);
    }

    /// <summary>
    /// Every order was written before this starts, so each deadline is at most one window away; the expiry
    /// job's lag and the unit's return are given the drain's stall time on top.
    /// </summary>
    private async Task<SettleOutcome> WaitForSettleAsync(CancellationToken cancellationToken)
    {
        var clock = progress.Clock;
        var from = clock.Seconds;
        var limit = paymentWindowSeconds + options.DrainStallSeconds;
        var last = "no store read succeeded";
        using var timer = new PeriodicTimer(SettlePollInterval);
        do
        {
            try
            {
                var orders = await probe.CountOrdersAsync(campaignId, cancellationToken);
                var pending = await probe.UnfinishedTokensAsync(campaignId, shardCount);
                last = Format($"{orders.AwaitingPayment} awaiting payment, {orders.ExpiredNotReturned} expired units not back, {pending} reservations pending");
                if (orders.AwaitingPayment == 0 && orders.ExpiredNotReturned == 0 && pending == 0)
                {
                    return new SettleOutcome(true, from, clock.Seconds, Format($"{orders.Paid} paid, {orders.PaymentExpired} expired with their units back"));
                }
            }
            catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
            {
                // A failed read is a retry, not the end of the wait; the limit still holds.
            }

            if (clock.Seconds - from >= limit)
            {
                return new SettleOutcome(false, from, clock.Seconds, Format($"after {limit:F0} s: {last}"));
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken));

        return new SettleOutcome(false, from, clock.Seconds, last);
    }

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
