using System.Net;
using Seckill.IntegrationTests.Fixtures;
using static Seckill.IntegrationTests.Observability.Scraping;

namespace Seckill.IntegrationTests.Observability;

/// <summary>
/// A sale with a known mix of answers through one intake and one worker of the test's own; their
/// /metrics say the same numbers by outcome, and the orders written.
/// </summary>
[Collection(Metering.Name)]
public class Counting_a_sale(PipelineFixture fixture)
{
    private static readonly string[] Outcomes = ["accepted", "sold-out", "already-purchased", "not-found", "invalid", "not-started"];

    [Fact]
    public async Task The_counters_equal_the_answers_by_outcome_and_the_orders_written()
    {
        const int stock = 30, shards = 3;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.CreateIntake(broker.Settings);
        using var worker = fixture.CreateWorker(broker.Settings);
        await worker.StartAsync();
        var admin = fixture.AdminClient(intake);
        var client = intake.CreateClient();
        using var scraper = new HttpClient();
        var workerAddress = HttpAddressOf(worker);
        var campaign = await admin.CreateCampaignAsync(stock, shards);
        var later = await admin.CreateCampaignAsync(5, 1, startsAt: DateTimeOffset.UtcNow.AddHours(1));

        var intakeBefore = await client.ScrapeAsync();
        var workerBefore = await scraper.ScrapeAsync(workerAddress);

        var answers = new List<HttpResponseMessage>();
        // Buyers come back before the sale sells out: after it, the sold-out flag answers first.
        answers.AddRange(await Task.WhenAll(Enumerable.Range(0, 10).Select(i => client.BuyAsync(campaign.Id, $"buyer-{i}"))));
        answers.AddRange(await Task.WhenAll(Enumerable.Range(0, 4).Select(i => client.BuyAsync(campaign.Id, $"buyer-{i}"))));
        answers.AddRange(await Task.WhenAll(Enumerable.Range(10, 35).Select(i => client.BuyAsync(campaign.Id, $"buyer-{i}"))));
        answers.AddRange(await Task.WhenAll(Enumerable.Range(0, 3).Select(i => client.BuyAsync(Guid.NewGuid(), $"lost-{i}"))));
        answers.AddRange(await Task.WhenAll(Enumerable.Range(0, 2).Select(i => client.BuyAsync(campaign.Id, ""))));
        answers.AddRange(await Task.WhenAll(Enumerable.Range(0, 2).Select(i => client.BuyAsync(later.Id, $"early-{i}"))));
        var byOutcome = new Dictionary<string, int>();
        foreach (var answer in answers)
        {
            var outcome = answer.StatusCode switch
            {
                HttpStatusCode.Accepted => "accepted",
                HttpStatusCode.BadRequest => "invalid",
                HttpStatusCode.NotFound => "not-found",
                _ => await ProblemCodeAsync(answer),
            };
            byOutcome[outcome] = byOutcome.GetValueOrDefault(outcome) + 1;
        }

        Assert.Equal(stock, byOutcome["accepted"]);
        Assert.True(byOutcome.ContainsKey("sold-out") && byOutcome.ContainsKey("already-purchased"), string.Join(", ", byOutcome));
        Assert.True(await Waiting.UntilAsync(async () => await fixture.SoldAsync(campaign.Id) == stock, TimeSpan.FromSeconds(60)));

        // The exporter answers a scrape from a cache for a moment; the counters get there on the next one.
        string intakeAfter = "", workerAfter = "";
        var counted = await Waiting.UntilAsync(async () =>
        {
            intakeAfter = await client.ScrapeAsync();
            workerAfter = await scraper.ScrapeAsync(workerAddress);
            return Outcomes.All(o => Delta(intakeBefore, intakeAfter, "seckill_purchases_total", ("outcome", o)) == byOutcome.GetValueOrDefault(o))
                && Delta(workerBefore, workerAfter, "seckill_orders_written_total") == stock;
        }, TimeSpan.FromSeconds(15));
        Assert.True(counted, string.Join("; ", Outcomes.Select(o =>
            $"{o}: answered {byOutcome.GetValueOrDefault(o)}, counted {Delta(intakeBefore, intakeAfter, "seckill_purchases_total", ("outcome", o))}"))
            + $"; orders written {Delta(workerBefore, workerAfter, "seckill_orders_written_total")} of {stock}");

        // The latency and batch histograms count what happened too.
        Assert.True(Delta(intakeBefore, intakeAfter, "seckill_reserve_duration_seconds_count") >= byOutcome["accepted"]);
        Assert.Equal(stock, Delta(intakeBefore, intakeAfter, "seckill_group_commit_batch_size_sum"));
        Assert.True(Delta(intakeBefore, intakeAfter, "seckill_publish_duration_seconds_count") >= 1);
        Assert.True(Delta(workerBefore, workerAfter, "seckill_orders_write_duration_seconds_count") >= 1);
        Assert.Contains("http_server_request_duration_seconds", intakeAfter, StringComparison.Ordinal);
        Assert.Contains("dotnet_gc_collections_total", intakeAfter, StringComparison.Ordinal);
        // MassTransit's own meter, on both sides of the queue.
        Assert.Contains("messaging_masstransit_send_ea_total", intakeAfter, StringComparison.Ordinal);
        Assert.Contains("messaging_masstransit_consume_ea_total", workerAfter, StringComparison.Ordinal);

        // The per-shard stock gauge reads Redis in the background every few seconds: every shard at zero.
        var now = "";
        Assert.True(await Waiting.UntilAsync(async () =>
        {
            now = await client.ScrapeAsync();
            return Enumerable.Range(0, shards).All(s =>
                now.Contains($"seckill_shard_virtual_stock{{", StringComparison.Ordinal)
                && Value(now, "seckill_shard_virtual_stock", ("campaign", campaign.Id.ToString()), ("shard", s.ToString(System.Globalization.CultureInfo.InvariantCulture))) == 0
                && Series(now, "seckill_shard_virtual_stock", campaign.Id.ToString()) == shards);
        }, TimeSpan.FromSeconds(15)), campaign.Id + "\n" + string.Join("\n", now.Split("\n").Where(l => l.Contains("virtual_stock", StringComparison.Ordinal))));
        await worker.StopAsync();
    }

    private static double Delta(string before, string after, string metric, params (string, string)[] labels) =>
        Value(after, metric, labels) - Value(before, metric, labels);

    private static int Series(string exposition, string metric, string campaign) =>
        exposition.Split('\n').Count(l => l.StartsWith(metric + "{", StringComparison.Ordinal) && l.Contains(campaign, StringComparison.Ordinal));

    private static async Task<string> ProblemCodeAsync(HttpResponseMessage answer)
    {
        using var json = System.Text.Json.JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("code").GetString()!;
    }
}
