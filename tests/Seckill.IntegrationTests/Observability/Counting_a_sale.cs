using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Seckill.IntegrationTests.Fixtures;
using Seckill.IntegrationTests.Payments;
using Seckill.Inventory;
using static Seckill.IntegrationTests.Observability.Scraping;

namespace Seckill.IntegrationTests.Observability;

/// <summary>
/// A sale with a known mix of answers through one intake and one worker of the test's own; their
/// /metrics say the same numbers by outcome, and the orders written.
/// </summary>
[Collection(Metering.Name)]
public class Counting_a_sale(PipelineFixture fixture)
{
    private static readonly string[] Outcomes =
        ["accepted", "sold-out", "already-purchased", "ended", "not-started", "throttled", "invalid", "not-found", "unavailable"];

    [Fact]
    public async Task The_counters_equal_the_answers_by_outcome_and_the_orders_written()
    {
        const int stock = 30, shards = 3;
        await using var paused = await fixture.PauseSharedWorkerAsync();
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
        var byOutcome = await ByOutcomeAsync(answers);

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

    /// <summary>
    /// The answers the first sale cannot give (ended, throttled, unavailable) from intakes of the test's
    /// own, and the workers' jobs — payment expiry with its compensations, and the sweeper's hand-offs —
    /// on campaigns only they may touch; every counter moves by exactly what the answers and stores show.
    /// </summary>
    [Fact]
    public async Task The_refusals_expiries_compensations_and_hand_offs_are_counted_exactly()
    {
        const int crowd = 200, cutOffBuyers = 3, lateBuyers = 4, unpaidStock = 6, unpaidShards = 2, orphans = 2, sweptShards = 2;
        await using var paused = await fixture.PauseSharedWorkerAsync();
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var relay = new TcpProxy(int.Parse(fixture.Settings["Seckill:RabbitMq:Port"]!, CultureInfo.InvariantCulture));
        await using var intake = fixture.StartIntake(broker.Settings);
        await using var narrow = fixture.StartIntake(new Dictionary<string, string?>(broker.Settings)
        {
            ["Seckill:Intake:MaxConcurrentPurchases"] = "1",
            ["Seckill:Intake:PurchaseQueueLimit"] = "0",
        });
        await using var cutOff = fixture.StartIntake(new Dictionary<string, string?>(broker.Settings)
        {
            ["Seckill:RabbitMq:Port"] = relay.Port.ToString(CultureInfo.InvariantCulture),
            ["Seckill:Intake:PublishTimeout"] = "00:00:02",
        });
        var admin = fixture.AdminClient(intake);
        var ended = await admin.CreateCampaignAsync(5, 1);
        var crowded = await admin.CreateCampaignAsync(crowd, 4);
        var refused = await admin.CreateCampaignAsync(5, 1);
        var unpaid = await admin.CreateCampaignAsync(unpaidStock, unpaidShards);
        var swept = await admin.CreateCampaignAsync(orphans + 1, sweptShards);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync(new Uri($"/api/campaigns/{ended.Id}/end", UriKind.Relative), null)).StatusCode);
        // One job per worker, each confined to one campaign: a hand-off or an expiry anywhere else would be counted too.
        using var sweeper = fixture.CreateWorkerScopedTo(QuickSweeper.With(broker.Settings), swept.Id);
        using var expirer = fixture.CreateWorkerScopedTo(PaymentStores.QuickExpiry(broker.Settings), unpaid.Id);
        await sweeper.StartAsync();
        await expirer.StartAsync();
        // Stopped whatever the outcome: a started host disposed without a stop can hold the test run open.
        try
        {
            var client = intake.CreateClient();
            using var scraper = new HttpClient();
            var workerAddress = HttpAddressOf(expirer);
            var intakeBefore = await client.ScrapeAsync();
            var workerBefore = await scraper.ScrapeAsync(workerAddress);

            var answers = new List<HttpResponseMessage>();
            answers.AddRange(await Task.WhenAll(Enumerable.Range(0, lateBuyers).Select(i => client.BuyAsync(ended.Id, $"late-{i}"))));
            var narrowClient = narrow.CreateClient();
            answers.AddRange(await Task.WhenAll(Enumerable.Range(0, crowd).Select(i => narrowClient.BuyAsync(crowded.Id, $"crowd-{i}"))));
            relay.Cut();
            var cutOffClient = cutOff.CreateClient();
            answers.AddRange(await Task.WhenAll(Enumerable.Range(0, cutOffBuyers).Select(i => cutOffClient.BuyAsync(refused.Id, $"cut-off-{i}"))));
            var unpaidAnswers = await Task.WhenAll(Enumerable.Range(0, unpaidStock).Select(i => client.BuyAsync(unpaid.Id, $"unpaid-{i}")));
            answers.AddRange(unpaidAnswers);
            var byOutcome = await ByOutcomeAsync(answers);
            Assert.Equal((lateBuyers, cutOffBuyers), (byOutcome.GetValueOrDefault("ended"), byOutcome.GetValueOrDefault("unavailable")));
            Assert.True(byOutcome.GetValueOrDefault("throttled") > 0, string.Join(", ", byOutcome));

            // Orders, some then left unpaid past their deadline.
            await fixture.WaitForOrdersAsync(unpaid.Id, unpaidStock);
            var lapsed = new List<Guid>();
            foreach (var answer in unpaidAnswers.Take(4))
            {
                lapsed.Add(await answer.AcceptedReservationAsync());
            }

            // Only a worker confined to other campaigns leaves these alone: on servers shared with a running demo,
            // its expiry (every campaign) can take them first and this process counts none (CI's servers are the suite's own).
            await fixture.MoveDeadlinesAsync(unpaid.Id, "-1 second", lapsed);

            // Reservations no intake handed off: the intake's own reserve, without the publish that follows it.
            var number = (int)await fixture.CountAsync("SELECT number FROM campaigns WHERE id = $1", swept.Id);
            var reservations = intake.Services.GetRequiredService<ShardReservations>();
            var unsent = new List<Guid>();
            for (var i = 0; i < orphans; i++)
            {
                var reserved = Assert.IsType<ReserveOutcome.Reserved>(await reservations.ReserveAsync(new CampaignShards(swept.Id, number, sweptShards), $"orphan-{i}", null));
                unsent.Add(reserved.ReservationId);
            }

            var expiredQuery = "SELECT count(*) FROM orders WHERE campaign_id = $1 AND status = 'payment-expired'";
            var returnedQuery = "SELECT count(*) FROM orders WHERE campaign_id = $1 AND unit_returned_at IS NOT NULL";
            var mine = new[] { ended.Id, crowded.Id, refused.Id, unpaid.Id, swept.Id };
            Assert.True(await Waiting.UntilAsync(async () =>
                await fixture.CountAsync(returnedQuery, unpaid.Id) == lapsed.Count
                && await fixture.CountAsync("SELECT count(*) FROM orders WHERE reservation_id = ANY($1)", unsent.ToArray()) == orphans
                && await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = ANY($1)", mine) == byOutcome["accepted"] + orphans,
                TimeSpan.FromSeconds(30)), "the units of the lapsed orders, the orphans' orders or the crowd's orders did not arrive");

            // What the stores show, each once the workers are done: the numbers the counters owe.
            var expired = await fixture.CountAsync(expiredQuery, unpaid.Id);
            var returned = await fixture.CountAsync(returnedQuery, unpaid.Id);
            var unitsBack = (await RedisSnapshot.TakeAsync(fixture, unpaid.Id, unpaidShards)).TotalStock;
            var handedOff = (await RedisSnapshot.TakeAsync(fixture, swept.Id, sweptShards)).ParsedTokens
                .Count(t => unsent.Contains(Guid.ParseExact(t.Key[(t.Key.LastIndexOf(':') + 1)..], "N")) && t.Fields["s"] == "confirmed");
            var written = await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = ANY($1)", mine);
            Assert.Equal((lapsed.Count, lapsed.Count, lapsed.Count, orphans), (expired, returned, unitsBack, handedOff));

            string intakeAfter = "", workerAfter = "";
            var counted = await Waiting.UntilAsync(async () =>
            {
                intakeAfter = await client.ScrapeAsync();
                workerAfter = await scraper.ScrapeAsync(workerAddress);
                return Outcomes.All(o => Delta(intakeBefore, intakeAfter, "seckill_purchases_total", ("outcome", o)) == byOutcome.GetValueOrDefault(o))
                    && Delta(workerBefore, workerAfter, "seckill_payments_expired_total") == expired
                    && Delta(workerBefore, workerAfter, "seckill_compensations_total", ("reason", "payment-expired")) == returned
                    && Delta(workerBefore, workerAfter, "seckill_compensations_total") == returned
                    && Delta(workerBefore, workerAfter, "seckill_sweeper_handed_off_total") == handedOff
                    && Delta(workerBefore, workerAfter, "seckill_orders_written_total") == written;
            }, TimeSpan.FromSeconds(15));
            Assert.True(counted, string.Join("; ", Outcomes.Select(o =>
                $"{o}: answered {byOutcome.GetValueOrDefault(o)}, counted {Delta(intakeBefore, intakeAfter, "seckill_purchases_total", ("outcome", o))}"))
                + $"; payments expired {Delta(workerBefore, workerAfter, "seckill_payments_expired_total")} of {expired}"
                + $"; compensations payment-expired {Delta(workerBefore, workerAfter, "seckill_compensations_total", ("reason", "payment-expired"))}"
                + $", any reason {Delta(workerBefore, workerAfter, "seckill_compensations_total")} of {returned}"
                + $"; handed off {Delta(workerBefore, workerAfter, "seckill_sweeper_handed_off_total")} of {handedOff}"
                + $"; orders written {Delta(workerBefore, workerAfter, "seckill_orders_written_total")} of {written}");
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"{string.Join(", ", byOutcome.Select(o => $"{o.Value} {o.Key}"))}; {expired} expired, {returned} returned, {handedOff} handed off, {written} written");
        }
        finally
        {
            await sweeper.StopAsync();
            await expirer.StopAsync();
        }
    }

    /// <summary>An answer's <c>outcome</c> tag as the intake should count it.</summary>
    private static async Task<Dictionary<string, int>> ByOutcomeAsync(IEnumerable<HttpResponseMessage> answers)
    {
        var byOutcome = new Dictionary<string, int>();
        foreach (var answer in answers)
        {
            var outcome = answer.StatusCode switch
            {
                HttpStatusCode.Accepted => "accepted",
                HttpStatusCode.BadRequest => "invalid",
                HttpStatusCode.NotFound => "not-found",
                // The problem's code names the server that is away (broker-unavailable); the tag is one for all.
                HttpStatusCode.ServiceUnavailable => "unavailable",
                _ => await ProblemCodeAsync(answer),
            };
            byOutcome[outcome] = byOutcome.GetValueOrDefault(outcome) + 1;
        }

        return byOutcome;
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
