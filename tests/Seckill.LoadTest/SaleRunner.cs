using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Seckill.LoadTest;

/// <summary>
/// One request's outcome; <see cref="CompletedAt"/> is in Stopwatch ticks since the sale started. A 202 keeps
/// its reservation id so the report can find its order (or its token) after the drain, and its buyer, who
/// reads and pays for it.
/// </summary>
public readonly record struct AnswerRecord(short Status, short Code, long LatencyTicks, long CompletedAt, Guid ReservationId, int Buyer);

/// <summary>The answers of one wave of buyers, in sending order; a wave stopped early holds only what it sent.</summary>
public sealed record SaleResult(AnswerRecord[] Answers, long LastAnswerAt)
{
    public IEnumerable<Winner> Winners => Answers
        .Where(a => a.Status == 202 && a.ReservationId != Guid.Empty)
        .Select(a => new Winner(a.Buyer, a.ReservationId));
}

public readonly record struct Winner(int Buyer, Guid ReservationId);

/// <summary>
/// Fires the sale: every buyer once, plus the repeats, paced by the pattern and capped by the concurrency;
/// and the resale waves: buyers coming back, all at once, until the campaign is sold out again.
/// </summary>
public sealed class SaleRunner(IntakeClient intake, Guid campaignId, LoadOptions options, SaleProgress progress)
{
    /// <summary>Fixed so two runs with the same options send the same sequence.</summary>
    public const int Seed = 20240611;

    private readonly Uri _purchaseUri = IntakeClient.PurchaseUri(campaignId);

    /// <summary>Called with every 202 of the sale as it arrives (not of the resale waves): winners check out during the sale.</summary>
    public Action<Winner>? OnWinner { get; set; }

    /// <summary>
    /// Buyer numbers in sending order: 0..N-1 in order, with the repeats at random positions, each naming a
    /// buyer that was already sent before it.
    /// </summary>
    public static int[] Plan(int buyers, int repeats, int seed)
    {
        var random = new Random(seed);
        var total = buyers + repeats;
        var isRepeat = new bool[total];
        // A repeat cannot come first: there is no buyer to repeat yet.
        for (var placed = 0; placed < repeats;)
        {
            var position = 1 + random.Next(total - 1);
            if (!isRepeat[position])
            {
                isRepeat[position] = true;
                placed++;
            }
        }

        var plan = new int[total];
        var next = 0;
        for (var i = 0; i < total; i++)
        {
            plan[i] = isRepeat[i] && next > 0 ? random.Next(next) : next++;
        }

        return plan;
    }

    public static string UserId(int buyer) => string.Create(CultureInfo.InvariantCulture, $"buyer-{buyer:D6}");

    public Task<SaleResult> RunAsync(CancellationToken cancellationToken) =>
        RunAsync(Plan(options.Buyers, options.RepeatRequests, Seed), DueSeconds, untilSoldOut: false, OnWinner, cancellationToken);

    /// <summary>
    /// Sends <paramref name="buyers"/> as a burst and stops sending at the first sold-out answer: the units
    /// released by expiry are gone again, and the buyers not sent yet would only be told so.
    /// </summary>
    public Task<SaleResult> RunResaleAsync(int[] buyers, CancellationToken cancellationToken) =>
        RunAsync(buyers, _ => 0, untilSoldOut: true, onWinner: null, cancellationToken);

    private async Task<SaleResult> RunAsync(
        int[] plan, Func<int, double> dueSeconds, bool untilSoldOut, Action<Winner>? onWinner, CancellationToken cancellationToken)
    {
        var answers = new AnswerRecord[plan.Length];
        using var slots = new SemaphoreSlim(options.Concurrency, options.Concurrency);
        var start = progress.Clock.Start;
        var soldOut = new StrongBox<bool>();
        var sent = 0;
        for (; sent < plan.Length && !(untilSoldOut && Volatile.Read(ref soldOut.Value)); sent++)
        {
            var wait = dueSeconds(sent) - progress.Clock.Seconds;
            // Sleeping under ~2 ms is not possible with the timer; sending that little early keeps the mean rate exact.
            if (wait > 0.002)
            {
                await Task.Delay(TimeSpan.FromSeconds(wait), cancellationToken);
            }

            await slots.WaitAsync(cancellationToken);
            progress.Sent();
            _ = SendAsync(sent, plan[sent], answers, slots, soldOut, start, onWinner, cancellationToken);
        }

        for (var i = 0; i < options.Concurrency; i++)
        {
            await slots.WaitAsync(cancellationToken);
        }

        Array.Resize(ref answers, sent);
        return new SaleResult(answers, answers.Length == 0 ? 0 : answers.Max(a => a.CompletedAt));
    }

    /// <summary>When request <paramref name="index"/> is due, in seconds since the sale started.</summary>
    private double DueSeconds(int index) => options.Pattern switch
    {
        SalePattern.Constant => index / options.Rate,
        // Ramp: rate r(t) = R·t/S, so n(t) = R·t²/(2S) requests are due by t, until the ramp's R·S/2 are sent.
        SalePattern.Ramp when index < options.Rate * options.RampSeconds / 2 => Math.Sqrt(2 * options.RampSeconds * index / options.Rate),
        SalePattern.Ramp => options.RampSeconds + (index - (options.Rate * options.RampSeconds / 2)) / options.Rate,
        _ => 0,
    };

    private async Task SendAsync(
        int index, int buyer, AnswerRecord[] answers, SemaphoreSlim slots, StrongBox<bool> soldOut, long start, Action<Winner>? onWinner,
        CancellationToken cancellationToken)
    {
        try
        {
            var sentAt = Stopwatch.GetTimestamp();
            var answer = await intake.PurchaseAsync(_purchaseUri, buyer, cancellationToken);
            var answeredAt = Stopwatch.GetTimestamp();
            answers[index] = new AnswerRecord((short)answer.Status, (short)answer.Code, answeredAt - sentAt, answeredAt - start, answer.ReservationId, buyer);
            progress.Answered(answer, answeredAt - sentAt);
            if (answer.Status == 202 && answer.ReservationId != Guid.Empty)
            {
                onWinner?.Invoke(new Winner(buyer, answer.ReservationId));
            }

            if (answer.Code == ProblemCodes.SoldOut)
            {
                Volatile.Write(ref soldOut.Value, true);
            }
        }
        finally
        {
            slots.Release();
        }
    }
}
