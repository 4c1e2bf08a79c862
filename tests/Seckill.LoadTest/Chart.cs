using ScottPlot;

namespace Seckill.LoadTest;

/// <summary>
/// Requests/s, accepted/s, orders written/s, payments/s and expiries/s on the left axis, queue depth on the
/// right, over time; the resale waves show as the second hump of requests and orders.
/// </summary>
public static class Chart
{
    public static string Write(IReadOnlyList<Sample> samples, double saleSeconds, string folder)
    {
        var path = Path.Combine(folder, "chart.png");
        var plot = new Plot();
        plot.Title("Flash sale: load, drain, payments, expiry and resale");
        plot.XLabel("seconds since the sale started");
        plot.YLabel("per second");
        plot.Axes.Right.Label.Text = "queue depth (messages)";

        var seconds = samples.Select(s => s.Seconds).ToArray();
        AddRate(plot, seconds, samples.Select(s => s.RequestsPerSecond), "requests/s", Colors.Gray);
        AddRate(plot, seconds, samples.Select(s => s.AcceptedPerSecond), "accepted/s", Colors.Green);
        AddRate(plot, seconds, samples.Select(s => s.OrdersPerSecond), "orders written/s", Colors.Blue);
        AddRate(plot, seconds, samples.Select(s => s.PaymentsPerSecond), "payments/s", Colors.Purple);
        AddRate(plot, seconds, samples.Select(s => s.ExpiriesPerSecond), "expiries/s", Colors.Brown);

        var known = samples.Where(s => s.QueueDepth is not null).ToArray();
        var depth = plot.Add.ScatterLine(known.Select(s => s.Seconds).ToArray(), known.Select(s => (double)s.QueueDepth!.Value).ToArray(), Colors.OrangeRed);
        depth.LegendText = "queue depth (RabbitMQ stats, lag a few s; right axis)";
        depth.LinePattern = LinePattern.Dashed;
        depth.LineWidth = 2;
        depth.Axes.YAxis = plot.Axes.Right;

        var saleEnd = plot.Add.VerticalLine(saleSeconds, 1, Colors.Black);
        saleEnd.LinePattern = LinePattern.Dotted;
        saleEnd.LegendText = "last answer";

        plot.Axes.AutoScale();
        plot.Axes.SetLimitsX(0, Math.Max(1, seconds.DefaultIfEmpty(0).Max()));
        plot.Axes.SetLimitsY(0, Math.Max(1, plot.Axes.Left.Max), plot.Axes.Left);
        plot.Axes.SetLimitsY(0, Math.Max(1, plot.Axes.Right.Max), plot.Axes.Right);
        plot.ShowLegend(Edge.Bottom);
        plot.SavePng(path, 1400, 700);
        return path;
    }

    private static void AddRate(Plot plot, double[] seconds, IEnumerable<double> values, string label, Color color)
    {
        var line = plot.Add.ScatterLine(seconds, values.ToArray(), color);
        line.LegendText = label;
        line.LineWidth = 2;
    }
}
