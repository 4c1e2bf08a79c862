using System.Globalization;
using System.Text.Json;
using System.Text.Encodings.Web;
using Spectre.Console;

namespace Seckill.LoadTest;

public sealed record RunSettings(
    string Intake, string Pattern, int Buyers, int RepeatRequests, double Rate, double RampSeconds,
    int Concurrency, double DrainStallSeconds, double DrainTimeoutSeconds, int Seed,
    double PayShare, double PayDelayMaxSeconds, int PaymentWindowSeconds, int ResaleWaves);

public sealed record AnswerGroup(int Status, string? Code, long Count);

public sealed record LatencySummary(double P50, double P90, double P99, double Max);

public sealed record CheckResult(string Name, bool Passed, string Detail);

/// <summary>What the stores hold after the drain; <paramref name="MaxSold"/> is the highest campaigns.sold sampled during the run.</summary>
public sealed record StoreTotals(long Stock, int Shards, long Sold, long MaxSold, OrderCounts Orders, long OrdersBefore, long VirtualStockLeft);

/// <summary>
/// The winners' checkouts: how each ended, every payment answer (retries included) and their latency.
/// <paramref name="Winners"/> counts the reservations the checkout followed (the sale's and the resale waves').
/// </summary>
public sealed record CheckoutSummary(
    long Winners,
    long ChosenToPay,
    IReadOnlyDictionary<string, long> Outcomes,
    IReadOnlyList<AnswerGroup> PaymentAnswers,
    LatencySummary PaymentLatencyMs,
    IReadOnlyList<string> UnexpectedExamples);

/// <summary>
/// One resale wave as reported. <paramref name="Resold"/>: orders written for reservations this wave accepted,
/// i.e. units released by expiry and sold again; <paramref name="ReleasedUnits"/>: Σ shard stock when it began.
/// </summary>
public sealed record ResaleSummary(
    int Wave,
    string? SkippedBecause,
    double? WindowClosedAfterSeconds,
    string? WindowDetail,
    long ReleasedUnits,
    long ReturningBuyers,
    long Requests,
    long Accepted,
    IReadOnlyList<AnswerGroup> Answers,
    long Resold,
    double? DrainSeconds,
    string? DrainGaveUp);

public sealed record LoadReport(
    DateTimeOffset StartedAt,
    RunSettings Settings,
    Guid CampaignId,
    StoreTotals Stores,
    long Requests,
    long Accepted,
    IReadOnlyList<AnswerGroup> Answers,
    LatencySummary LatencyMs,
    double MeanRequestsPerSecond,
    double PeakAcceptedPerSecond,
    double MeanAcceptedPerSecond,
    double SaleSeconds,
    bool Drained,
    string? DrainGaveUp,
    double DrainSeconds,
    double DrainConfirmedSeconds,
    double? LastOrderWrittenAt,
    int ProbeFailures,
    AcceptedAudit AcceptedOutcomes,
    CheckoutSummary Checkout,
    IReadOnlyList<ResaleSummary> Resales,
    long ResoldUnits,
    IReadOnlyList<CheckResult> Checks,
    IReadOnlyList<Sample> TimeSeries)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        // The file is read by people: keep ≤ and Σ as they are.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public bool Passed => Drained && Checks.All(check => check.Passed);

    public static LoadReport Build(
        DateTimeOffset startedAt, RunSettings settings, Guid campaignId, StoreTotals stores, ScenarioResult scenario, ProblemCodes codes,
        AcceptedAudit audit, IReadOnlyDictionary<Guid, string> orderStatuses, IReadOnlyCollection<PaymentAttempt> paymentAttempts,
        double? ordersChangedAt, int probeFailures, IReadOnlyList<Sample> timeSeries)
    {
        var sale = scenario.Sale;
        var firstDrain = scenario.Drain;
        var gaveUp = firstDrain.GaveUp;
        var drain = firstDrain.Drained ?? new DrainTimes(gaveUp!.At, gaveUp.At);
        var drained = scenario.Drains.All(d => d.GaveUp is null);
        var answers = sale.Answers;
        var accepted = answers.LongCount(a => a.Status == 202);
        var saleSeconds = SaleClock.ToSeconds(sale.LastAnswerAt);
        var lastAccepted = answers.Where(a => a.Status == 202).Select(a => a.CompletedAt).DefaultIfEmpty(0).Max();
        var orders = stores.Orders;
        var live = orders.Live;
        var heldOrOnSale = live + stores.VirtualStockLeft;
        var last = timeSeries.Count > 0 ? timeSeries[^1] : null;
        var resales = scenario.Resales.Select(r => Resale(r, codes, orderStatuses)).ToArray();
        var resold = resales.Sum(r => r.Resold);
        var checkout = SummarizeCheckouts(scenario.Checkouts, paymentAttempts, codes);
        var (paymentsPassed, paymentsDetail) = PaymentsRecorded(scenario.Checkouts, orderStatuses);
        var settles = scenario.Resales.Select(r => r.Settle).OfType<SettleOutcome>().ToArray();

        var checks = new List<CheckResult>
        {
            new("drain complete", drained, DrainDetail(scenario, gaveUp, last)),
        };
        if (settles.Length > 0)
        {
            checks.Add(new("payment window closed", settles.All(s => s.Settled), string.Join("; ", settles.Select((s, i) => s.Settled
                ? Format($"before resale {i + 1}: {s.Detail}, {s.At - s.From:F1} s after the payments")
                : Format($"before resale {i + 1}: {s.Detail}")))));
        }

        checks.AddRange(
        [
            // No oversell is a bound, but the real-inventory counter is owed equality with the live orders it counts.
            new("I1 no oversell", stores.Sold == live && live <= stores.Stock && stores.MaxSold <= stores.Stock,
                Format($"campaigns.sold {stores.Sold} {Relation(stores.Sold, live)} paid {orders.Paid} + awaiting {orders.AwaitingPayment} {(live <= stores.Stock ? "≤" : ">")} stock {stores.Stock}; highest sold sampled {stores.MaxSold} {(stores.MaxSold <= stores.Stock ? "≤" : ">")} stock")),
            new("I2 one order per buyer", orders.Orders == orders.DistinctBuyers,
                Format($"orders {orders.Orders} (any status) {Relation(orders.Orders, orders.DistinctBuyers)} distinct buyers {orders.DistinctBuyers}")),
            new("I3 every unit accounted", stores.Stock == heldOrOnSale,
                Format($"stock {stores.Stock} {Relation(stores.Stock, heldOrOnSale)} paid {orders.Paid} + awaiting {orders.AwaitingPayment} + Σ virtual stock {stores.VirtualStockLeft} over {stores.Shards} shards (= {heldOrOnSale})")),
            // Each order takes a unit; the only units beyond the stock are those expiry gave back, each at most once.
            new("expired units returned", orders.ExpiredNotReturned == 0 && orders.Orders <= stores.Stock + orders.UnitsReturned,
                Format($"{orders.PaymentExpired} expired, {orders.UnitsReturned} units back (unit_returned_at), {orders.ExpiredNotReturned} not; orders {orders.Orders} {(orders.Orders <= stores.Stock + orders.UnitsReturned ? "≤" : ">")} stock {stores.Stock} + {orders.UnitsReturned} returned; resold {resold}")),
            new("payments recorded", paymentsPassed, paymentsDetail),
            new("every 202 accounted", audit.Passed, audit.Detail),
        ]);

        return new LoadReport(
            startedAt, settings, campaignId, stores, answers.LongLength, accepted, Groups(answers, codes), Latency(answers.Where(a => a.Status != 0).Select(a => a.LatencyTicks)),
            saleSeconds > 0 ? Math.Round(answers.Length / saleSeconds, 1) : 0,
            Math.Round(PeakPerSecond(answers), 1),
            lastAccepted > 0 ? Math.Round(accepted / SaleClock.ToSeconds(lastAccepted), 1) : 0,
            Math.Round(saleSeconds, 3),
            drained,
            gaveUp?.Reason,
            Math.Round(Math.Max(0, drain.DrainedAt - saleSeconds), 3),
            Math.Round(drain.ConfirmedAt - saleSeconds, 3),
            ordersChangedAt is { } changedAt ? Math.Round(changedAt, 3) : null,
            probeFailures,
            audit,
            checkout,
            resales,
            resold,
            checks,
            timeSeries);
    }

    public async Task WriteJsonAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = File.Create(path);
        await JsonSerializer.SerializeAsync(file, this, Json, cancellationToken);
    }

    public void Print()
    {
        var answers = new Table().Border(TableBorder.Rounded).Title("answers")
            .AddColumn("status").AddColumn("code").AddColumn(new TableColumn("count").RightAligned()).AddColumn(new TableColumn("share").RightAligned());
        foreach (var group in Answers)
        {
            answers.AddRow(
                group.Status == 0 ? "none" : group.Status.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(group.Code ?? "-"),
                Format($"{group.Count:N0}"),
                Format($"{100.0 * group.Count / Math.Max(1, Requests):F1} %"));
        }

        var numbers = new Table().Border(TableBorder.Rounded).Title("sale").HideHeaders().AddColumn("what").AddColumn("value");
        numbers.AddRow("campaign", CampaignId.ToString());
        numbers.AddRow("requests", Format($"{Requests:N0} ({Settings.Buyers:N0} buyers + {Settings.RepeatRequests:N0} repeats, {Settings.Pattern})"));
        numbers.AddRow("accepted (202)", Format($"{Accepted:N0}"));
        numbers.AddRow("latency p50 / p90 / p99 / max", Format($"{LatencyMs.P50:F1} / {LatencyMs.P90:F1} / {LatencyMs.P99:F1} / {LatencyMs.Max:F1} ms"));
        numbers.AddRow("accepted/s peak (1 s window) / mean", Format($"{PeakAcceptedPerSecond:N0} / {MeanAcceptedPerSecond:N0}"));
        numbers.AddRow("sale duration", Format($"{SaleSeconds:F2} s ({MeanRequestsPerSecond:N0} req/s)"));
        numbers.AddRow("drain", DrainGaveUp is null
            ? Format($"{DrainSeconds:F2} s after the last answer (confirmed after {DrainConfirmedSeconds:F2} s, queue stats lag); {(LastOrderWrittenAt is { } at ? Format($"the run's last order written at {at:F2} s") : "no order written")}")
            : Format($"[red]not complete[/]: {Markup.Escape(DrainGaveUp ?? "")}, given up {DrainConfirmedSeconds:F0} s after the last answer"));
        var o = Stores.Orders;
        numbers.AddRow("orders", Format($"{o.Orders:N0} written for stock {Stores.Stock:N0}: paid {o.Paid:N0} · awaiting payment {o.AwaitingPayment:N0} · payment-expired {o.PaymentExpired:N0} (virtual stock left {Stores.VirtualStockLeft:N0})"));
        numbers.AddRow("payments", Format($"{Settings.PayShare:P0} of winners pay within {Settings.PayDelayMaxSeconds:0.##} s of their order (window {Settings.PaymentWindowSeconds} s){(Settings.ResaleWaves == 0 ? "; no resale wave" : Format($"; {Settings.ResaleWaves} resale wave(s), the last one's winners all pay"))}"));
        numbers.AddRow("checkouts", Markup.Escape(Format($"{Checkout.Winners:N0} winners, {Checkout.ChosenToPay:N0} chose to pay: {Breakdown(Checkout.Outcomes)}{(Checkout.UnexpectedExamples.Count == 0 ? "" : Format($"; unexpected e.g. {string.Join(", ", Checkout.UnexpectedExamples)}"))}")));
        numbers.AddRow("payment answers", Checkout.PaymentAnswers.Count == 0
            ? "none"
            : Markup.Escape(Format($"{string.Join(" · ", Checkout.PaymentAnswers.Select(g => Format($"{(g.Status == 0 ? "none" : g.Status)}{(g.Code is null ? "" : " " + g.Code)} {g.Count:N0}")))}; p50 / p99 {Checkout.PaymentLatencyMs.P50:F1} / {Checkout.PaymentLatencyMs.P99:F1} ms")));
        foreach (var resale in Resales)
        {
            numbers.AddRow(Format($"resale wave {resale.Wave}"), resale.SkippedBecause is { } why
                ? Markup.Escape(Format($"not sent: {why}{(resale.WindowDetail is { } detail ? Format($" ({detail})") : "")}"))
                : Markup.Escape(Format($"window closed {resale.WindowClosedAfterSeconds:F1} s after the payments; {resale.ReleasedUnits:N0} units back on the shards; {resale.Requests:N0} of {resale.ReturningBuyers:N0} sold-out buyers came back until sold out again: {resale.Accepted:N0} accepted, {resale.Resold:N0} resold; drain {(resale.DrainGaveUp ?? Format($"{resale.DrainSeconds:F2} s"))}")));
        }

        numbers.AddRow("resold units", Format($"{ResoldUnits:N0} (orders written for reservations a resale wave accepted: units released by expiry and sold again)"));
        numbers.AddRow("orders from no 202 seen here", AcceptedOutcomes.OrdersWithoutA202 == 0
            ? "0"
            : Format($"{AcceptedOutcomes.OrdersWithoutA202:N0}, e.g. {string.Join(", ", AcceptedOutcomes.OrdersWithoutA202Examples)} (requests written whose 202 never arrived, such as client-side timeouts; not a failure)"));
        if (ProbeFailures > 0)
        {
            numbers.AddRow("store reads failed", Format($"[yellow]{ProbeFailures}[/] (gaps in the time series)"));
        }

        var checks = new Table().Border(TableBorder.Rounded).Title("checks").AddColumn("check").AddColumn("result").AddColumn("numbers");
        foreach (var check in Checks)
        {
            checks.AddRow(Markup.Escape(check.Name), check.Passed ? "[green]PASS[/]" : "[red]FAIL[/]", Markup.Escape(check.Detail));
        }

        AnsiConsole.Write(answers);
        AnsiConsole.Write(numbers);
        AnsiConsole.Write(checks);
    }

    private static string DrainDetail(ScenarioResult scenario, DrainGiveUp? gaveUp, Sample? last)
    {
        var sale = gaveUp is null
            ? Format($"queue empty, 0 pending tokens, orders steady {Math.Max(0, scenario.Drain.Drained!.Value.DrainedAt - scenario.Drain.LastAnswerAt):F1} s after the last answer")
            : Format($"{gaveUp.Reason}; pending tokens {Known(last?.UnfinishedTokens)}, queue {Known(last?.QueueDepth)}");
        var waves = scenario.Resales.Where(r => r.Drain is not null).Select(r => r.Drain!.GaveUp is { } waveGaveUp
            ? Format($"resale {r.Wave}: {waveGaveUp.Reason}")
            : Format($"resale {r.Wave}: {Math.Max(0, r.Drain.Drained!.Value.DrainedAt - r.Drain.LastAnswerAt):F1} s"));
        return string.Join("; ", waves.Prepend(sale));
    }

    private static AnswerGroup[] Groups(IEnumerable<AnswerRecord> answers, ProblemCodes codes) => answers
        .GroupBy(a => (a.Status, a.Code))
        .Select(g => new AnswerGroup(g.Key.Status, g.Key.Code == ProblemCodes.None ? null : codes.NameOf(g.Key.Code), g.LongCount()))
        .OrderByDescending(g => g.Count)
        .ToArray();

    private static ResaleSummary Resale(ResaleRun run, ProblemCodes codes, IReadOnlyDictionary<Guid, string> orderStatuses)
    {
        var answers = run.Sale?.Answers ?? [];
        var drained = run.Drain?.Drained;
        return new ResaleSummary(
            run.Wave,
            run.SkippedBecause,
            run.Settle is { Settled: true } settle ? Math.Round(settle.At - settle.From, 3) : null,
            run.Settle?.Detail,
            run.ReleasedUnits,
            run.ReturningBuyers,
            answers.LongLength,
            answers.LongCount(a => a.Status == 202),
            Groups(answers, codes),
            run.Sale?.Winners.LongCount(w => orderStatuses.ContainsKey(w.ReservationId)) ?? 0,
            drained is { } times && run.Drain is { } drain ? Math.Round(Math.Max(0, times.DrainedAt - drain.LastAnswerAt), 3) : null,
            run.Drain?.GaveUp?.Reason);
    }

    private static CheckoutSummary SummarizeCheckouts(IReadOnlyList<CheckoutRecord> checkouts, IReadOnlyCollection<PaymentAttempt> attempts, ProblemCodes codes)
    {
        var outcomes = checkouts
            .GroupBy(c => OutcomeName(c.Outcome))
            .ToDictionary(g => g.Key, g => g.LongCount(), StringComparer.Ordinal);
        var paymentAnswers = attempts
            .GroupBy(a => (a.Status, a.Code))
            .Select(g => new AnswerGroup(g.Key.Status, g.Key.Code == ProblemCodes.None ? null : codes.NameOf(g.Key.Code), g.LongCount()))
            .OrderByDescending(g => g.Count)
            .ToArray();
        return new CheckoutSummary(
            checkouts.Count,
            checkouts.LongCount(c => c.Pays),
            outcomes,
            paymentAnswers,
            Latency(attempts.Where(a => a.Status != 0).Select(a => a.LatencyTicks)),
            [.. checkouts.Where(c => c.Outcome == CheckoutOutcome.Unexpected).Take(5).Select(c => Format($"{c.Winner.ReservationId}: {c.Detail}"))]);
    }

    private static string OutcomeName(CheckoutOutcome outcome) => outcome switch
    {
        CheckoutOutcome.Paid => "paid",
        CheckoutOutcome.LetExpire => "let the deadline pass",
        CheckoutOutcome.TooLate => "paid too late",
        CheckoutOutcome.ReservationFailed => "reservation failed",
        CheckoutOutcome.OrderNotSeen => "order never seen",
        _ => "unexpected",
    };

    /// <summary>
    /// What the generator was told about each payment against what PostgreSQL holds: a 200 is a paid order, a
    /// 410 payment-expired an expired one (or one past its deadline the expiry job has not reached yet), and an
    /// order whose buyer never sent a payment is not paid.
    /// </summary>
    private static (bool Passed, string Detail) PaymentsRecorded(IReadOnlyList<CheckoutRecord> checkouts, IReadOnlyDictionary<Guid, string> orderStatuses)
    {
        string? StatusOf(CheckoutRecord c) => orderStatuses.GetValueOrDefault(c.Winner.ReservationId);
        var paid = checkouts.Where(c => c.Outcome == CheckoutOutcome.Paid).ToArray();
        var paidWrong = paid.Where(c => StatusOf(c) != "paid").ToArray();
        var late = checkouts.Where(c => c.Outcome == CheckoutOutcome.TooLate).ToArray();
        var lateWrong = late.Where(c => StatusOf(c) is not ("payment-expired" or StoreProbe.Overdue)).ToArray();
        var unpaid = checkouts.Where(c => !c.PaymentSent && StatusOf(c) is not null).ToArray();
        var unpaidButPaid = unpaid.Where(c => StatusOf(c) == "paid").ToArray();
        var unpaidStatuses = string.Join(", ", unpaid.GroupBy(c => StatusOf(c)!).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => Format($"{g.Key} {g.Count()}")));
        var unexpected = checkouts.LongCount(c => c.Outcome == CheckoutOutcome.Unexpected);
        var detail = Format($"{paid.Length} paid by the API, {paid.Length - paidWrong.Length} of them paid orders; {late.Length} told payment-expired, {late.Length - lateWrong.Length} of them expired orders; {unpaid.Length} orders never paid for: {(unpaid.Length == 0 ? "-" : unpaidStatuses)}");
        var wrong = paidWrong.Concat(lateWrong).Concat(unpaidButPaid).Take(3).Select(c => Format($"{c.Winner.ReservationId} {OutcomeName(c.Outcome)} but {StatusOf(c) ?? "no order"}")).ToArray();
        if (wrong.Length > 0)
        {
            detail += Format($"; e.g. {string.Join(", ", wrong)}");
        }

        // Reported, not failed: an answer the API does not promise is a finding of its own (the checkouts row
        // lists examples), not evidence that a payment was recorded wrongly.
        if (unexpected > 0)
        {
            detail += Format($"; {unexpected} checkouts met an answer the API does not promise");
        }

        return (paidWrong.Length == 0 && lateWrong.Length == 0 && unpaidButPaid.Length == 0, detail);
    }

    private static string Breakdown(IReadOnlyDictionary<string, long> counts) =>
        counts.Count == 0 ? "-" : string.Join(" · ", counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => Format($"{c.Key} {c.Value:N0}")));

    private static LatencySummary Latency(IEnumerable<long> latencyTicks)
    {
        var latencies = latencyTicks.ToArray();
        if (latencies.Length == 0)
        {
            return new LatencySummary(0, 0, 0, 0);
        }

        Array.Sort(latencies);
        double At(double fraction) =>
            Math.Round(SaleClock.ToMilliseconds(latencies[Math.Max(0, (int)Math.Ceiling(fraction * latencies.Length) - 1)]), 2);
        return new LatencySummary(At(0.50), At(0.90), At(0.99), At(1));
    }

    /// <summary>The most 202 answers in any 1 s window, slid in 100 ms steps.</summary>
    private static double PeakPerSecond(AnswerRecord[] answers)
    {
        var buckets = new Dictionary<long, int>();
        foreach (var answer in answers.Where(a => a.Status == 202))
        {
            var bucket = (long)(SaleClock.ToSeconds(answer.CompletedAt) * 10);
            buckets[bucket] = buckets.GetValueOrDefault(bucket) + 1;
        }

        if (buckets.Count == 0)
        {
            return 0;
        }

        var last = buckets.Keys.Max();
        var window = 0;
        var peak = 0;
        for (var bucket = 0L; bucket <= last; bucket++)
        {
            window += buckets.GetValueOrDefault(bucket) - buckets.GetValueOrDefault(bucket - 10);
            peak = Math.Max(peak, window);
        }

        return peak;
    }

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Relation(long left, long right) => left == right ? "=" : "≠";

    private static string Known(long? value) => value is { } known ? known.ToString(CultureInfo.InvariantCulture) : "?";
}
