using System.Globalization;
using Spectre.Console;

namespace Seckill.LoadTest;

/// <summary>Shows progress while the sale and the drain run: a live table on a terminal, plain lines otherwise.</summary>
public sealed class LiveProgress(SaleProgress progress, Sampler sampler, Checkout checkout, bool live)
{
    private static readonly TimeSpan LiveRefresh = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan PlainRefresh = TimeSpan.FromSeconds(1);

    public async Task<T> RunAsync<T>(Func<Task<T>> work)
    {
        if (!live)
        {
            var plainWork = work();
            while (await Task.WhenAny(plainWork, Task.Delay(PlainRefresh)) != plainWork)
            {
                Console.WriteLine(PlainLine());
            }

            Console.WriteLine(PlainLine());
            return await plainWork;
        }

        return await AnsiConsole.Live(Table()).AutoClear(false).StartAsync(async context =>
        {
            var liveWork = work();
            while (await Task.WhenAny(liveWork, Task.Delay(LiveRefresh)) != liveWork)
            {
                context.UpdateTarget(Table());
            }

            context.UpdateTarget(Table());
            return await liveWork;
        });
    }

    /// <summary>One row per figure, so it fits an 80-column terminal.</summary>
    private Table Table()
    {
        var latest = sampler.Latest;
        var table = new Table().Border(TableBorder.Rounded).HideHeaders()
            .Title(Markup.Escape(progress.Phase))
            .AddColumn("figure").AddColumn(new TableColumn("value").Width(40));
        table.AddRow("elapsed", Format($"{progress.Clock.Seconds:F1} s"));
        table.AddRow("sent / in flight", Format($"{progress.SentCount:N0} / {progress.InFlight:N0}"));
        table.AddRow("answers by status", Markup.Escape(Statuses()));
        table.AddRow("accepted (202)", Format($"{progress.AcceptedCount:N0}"));
        table.AddRow("requests/s", Format($"{latest?.RequestsPerSecond ?? 0:N0}"));
        table.AddRow("p99 so far", Format($"{progress.P99Milliseconds:F1} ms"));
        table.AddRow("queue depth", Optional(latest?.QueueDepth));
        table.AddRow("orders written", Optional(latest?.OrdersWritten));
        table.AddRow("pending tokens", Optional(latest?.UnfinishedTokens));
        table.AddRow("paid / awaiting / expired", Format($"{Optional(latest?.Paid)} / {Optional(latest?.AwaitingPayment)} / {Optional(latest?.PaymentExpired)}"));
        table.AddRow("checkouts", Format($"polling {checkout.WaitingForOrder:N0} · paid {checkout.Paid:N0} · not paying {checkout.LettingExpire:N0} · other {checkout.Otherwise:N0}"));
        if (progress.Phase.Contains("drain", StringComparison.Ordinal))
        {
            // A slow drain is waited for while it moves; this shows how close a stuck one is to being given up.
            table.AddRow("last progress", Format($"{Math.Max(0, progress.Clock.Seconds - sampler.ProgressAt):F0} s ago"));
        }

        return table;
    }

    private string PlainLine()
    {
        var latest = sampler.Latest;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"[{progress.Phase}] t={progress.Clock.Seconds:F1}s sent={progress.SentCount} in-flight={progress.InFlight} " +
            $"answers={Statuses()} accepted={progress.AcceptedCount} req/s={latest?.RequestsPerSecond ?? 0:F0} " +
            $"p99={progress.P99Milliseconds:F1}ms queue={Optional(latest?.QueueDepth)} orders={Optional(latest?.OrdersWritten)} " +
            $"pending={Optional(latest?.UnfinishedTokens)} paid={Optional(latest?.Paid)} awaiting={Optional(latest?.AwaitingPayment)} " +
            $"expired={Optional(latest?.PaymentExpired)} polling={checkout.WaitingForOrder} last-progress={Math.Max(0, progress.Clock.Seconds - sampler.ProgressAt):F0}s-ago");
    }

    private string Statuses()
    {
        var parts = progress.ByStatus().Select(s => Format($"{(s.Status == 0 ? "none" : s.Status)}:{s.Count}")).ToArray();
        return parts.Length == 0 ? "-" : string.Join(' ', parts);
    }

    private static string Optional(long? value) => value is null ? "?" : Format($"{value.Value:N0}");

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
