using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Observability;

/// <summary>
/// Intake and worker run in this process, so one <see cref="ActivityListener"/> sees both sides. The
/// purchase carries a W3C traceparent of the test's choosing; its trace id must reach the worker.
/// </summary>
public class Tracing_a_purchase(PipelineFixture fixture)
{
    [Fact]
    public async Task The_purchase_trace_reaches_the_worker_consume_and_the_order_insert()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var seen = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "MassTransit" or "Npgsql" or "Seckill" or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.TraceId == traceId)
                {
                    seen.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.CreateIntake(broker.Settings);
        using var worker = fixture.CreateWorker(broker.Settings);
        await worker.StartAsync();
        var campaign = await fixture.AdminClient(intake).CreateCampaignAsync(5, 1);

        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{campaign.Id}/purchases");
        request.Headers.TryAddWithoutValidation("X-User-Id", "traced-buyer");
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        var answer = await intake.CreateClient().SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);

        bool Consumed() => seen.Any(a => a.Source.Name == "MassTransit" && a.Kind == ActivityKind.Consumer);
        bool Inserted() => seen.Any(a => a.Source.Name == "Npgsql" && (a.DisplayName + " " + a.GetTagItem("db.query.text") + a.GetTagItem("db.statement"))
            .Contains("order", StringComparison.OrdinalIgnoreCase));
        var found = await Waiting.UntilAsync(async () => Consumed() && Inserted(), TimeSpan.FromSeconds(30));
        Assert.True(found, "activities in the trace: " + string.Join("; ", seen.Select(a => $"{a.Source.Name}/{a.Kind}/{a.DisplayName}")));
        Assert.Contains(seen, a => a.Source.Name == "Microsoft.AspNetCore" && a.Kind == ActivityKind.Server);
        await worker.StopAsync();
    }
}
