using System.Globalization;
using System.Text.Json;
using System.Text.Encodings.Web;
using Spectre.Console;

namespace Seckill.LoadTest;

public sealed record RunSettings(
    string Intake, string Pattern, int Buyers, int RepeatRequests, double Rate, double RampSeconds,
    int Concurrency, double DrainStallSeconds, double DrainTimeoutSeconds, int Seed);

public sealed record AnswerGroup(int Status, string? Code, long Count);

public sealed record LatencySummary(double P50, double P90, double P99, double Max);

public sealed record CheckResult(string Name, bool Passed, string Detail);

/// <summary>What the stores hold after the drain.</summary>
public sealed record StoreTotals(long Stock, int Shards, long Sold, OrderCounts Orders, long OrdersBefore, long VirtualStockLeft);

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
        DateTimeOffset startedAt, RunSettings settings, Guid campaignId, StoreTotals stores, SaleResult sale, ProblemCodes codes,
        DrainTimes drain, DrainGiveUp? gaveUp, AcceptedAudit audit, double? ordersChangedAt, int probeFailures, IReadOnlyList<Sample> timeSeries)
    {
        var drained = gaveUp is null;
        var answers = sale.Answers;
        var accepted = answers.LongCount(a => a.Status == 202);
        var groups = answers
            .GroupBy(a => (a.Status, a.Code))
            .Select(g => new AnswerGroup(g.Key.Status, g.Key.Code == ProblemCodes.None ? null : codes.NameOf(g.Key.Code), g.LongCount()))
            .OrderByDescending(g => g.Count)
            .ToArray();
        var saleSeconds = SaleClock.ToSeconds(sale.LastAnswerAt);
        var lastAccepted = answers.Where(a => a.Status == 202).Select(a => a.CompletedAt).DefaultIfEmpty(0).Max();
        var orders = stores.Orders.Orders;
        var virtualTotal = orders + stores.VirtualStockLeft;
        var last = timeSeries.Count > 0 ? timeSeries[^1] : null;
        CheckResult[] checks =
        [
            new("drain complete", drained, gaveUp is null
                ? Format($"queue empty, 0 pending tokens, orders steady {Math.Max(0, drain.DrainedAt - SaleClock.ToSeconds(sale.LastAnswerAt)):F1} s after the last answer")
                : Format($"{gaveUp.Reason}; pending tokens {Known(last?.UnfinishedTokens)}, queue {Known(last?.QueueDepth)}")),
            // No oversell is a bound, but the real-inventory counter is owed equality with the rows it counts.
            new("I1 no oversell", orders <= stores.Stock && stores.Sold == orders,
                Format($"orders {orders} {(orders <= stores.Stock ? "≤" : ">")} stock {stores.Stock}, campaigns.sold {stores.Sold} {Relation(stores.Sold, orders)} orders")),
            new("I2 one order per buyer", orders == stores.Orders.DistinctBuyers,
                Format($"orders {orders} {Relation(orders, stores.Orders.DistinctBuyers)} distinct buyers {stores.Orders.DistinctBuyers}")),
            new("I3 every unit accounted", stores.Stock == virtualTotal,
                Format($"stock {stores.Stock} {Relation(stores.Stock, virtualTotal)} orders {orders} + Σ virtual stock {stores.VirtualStockLeft} over {stores.Shards} shards (= {virtualTotal})")),
            new("every 202 accounted", audit.Passed, audit.Detail),
        ];

        return new LoadReport(
            startedAt, settings, campaignId, stores, answers.LongLength, accepted, groups, Latency(answers),
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
        numbers.AddRow("drain", Drained
            ? Format($"{DrainSeconds:F2} s after the last answer ({(LastOrderWrittenAt is { } at ? Format($"last order at {at:F2} s") : "no order written")}; confirmed after {DrainConfirmedSeconds:F2} s, queue stats lag)")
            : Format($"[red]not complete[/]: {Markup.Escape(DrainGaveUp ?? "")}, given up {DrainConfirmedSeconds:F0} s after the last answer"));
        numbers.AddRow("orders", Format($"{Stores.Orders.Orders:N0} of stock {Stores.Stock:N0} (virtual stock left {Stores.VirtualStockLeft:N0})"));
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

    private static LatencySummary Latency(AnswerRecord[] answers)
    {
        var latencies = answers.Where(a => a.Status != 0).Select(a => a.LatencyTicks).ToArray();
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
