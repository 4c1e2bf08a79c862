using System.Diagnostics;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Orders;

[Collection(Timing.Name)]
public class Controlling_the_write_rate(PipelineFixture fixture)
{
    [Fact]
    public async Task Drains_a_thousand_queued_orders_no_faster_than_the_set_rate()
    {
        const int orders = 1_000, rate = 200;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.CreateIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(orders, shards: 4);
        var client = intake.CreateClient();
        var responses = await Task.WhenAll(Enumerable.Range(0, orders).Select(i => client.BuyAsync(campaign.Id, $"paced-{i}")));
        Assert.All(responses, r => Assert.Equal(System.Net.HttpStatusCode.Accepted, r.StatusCode));
        // All queued before the worker starts (fewer messages than purchases: the intake groups them).
        Assert.InRange(await broker.ReadyMessagesAsync("seckill-orders"), 1u, (uint)orders);

        using var worker = fixture.CreateWorker(new Dictionary<string, string?>(broker.Settings)
        {
            ["Seckill:Worker:MaxOrdersPerSecond"] = rate.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await worker.StartAsync();
        // Started after the host is up, so the measured time can only be shorter than the real drain.
        var drain = Stopwatch.StartNew();
        while (await fixture.CountAsync("SELECT sold FROM campaigns WHERE id = $1", campaign.Id) < orders && drain.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(50);
        }

        drain.Stop();
        await worker.StopAsync();

        Assert.True(drain.Elapsed >= TimeSpan.FromSeconds(4.5), $"{orders} orders at {rate}/s drained in {drain.Elapsed}");
        await fixture.AssertDrainedAsync(campaign.Id, 4, orders);
    }

    /// <summary>
    /// The rate is read from PostgreSQL's own order timestamps, first order to last, so neither the
    /// worker's start-up nor the test's polling is in the measure. A limiter that rounds the rate or
    /// grants a second's worth at once lands far outside ±5 % over a window this short.
    /// </summary>
    [Fact]
    public async Task Writes_seven_orders_a_second_within_five_percent_from_the_first_order_to_the_last()
    {
        const int orders = 36, rate = 7, shards = 4;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.CreateIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(orders, shards);
        var client = intake.CreateClient();
        // One at a time, so each purchase is its own message and the worker gets them all in one batch,
        // written order after order: only the limiter decides how far apart they are.
        for (var i = 0; i < orders; i++)
        {
            await (await client.BuyAsync(campaign.Id, $"seven-{i}")).AcceptedReservationAsync();
        }

        Assert.Equal((uint)orders, await broker.ReadyMessagesAsync("seckill-orders"));

        using var worker = fixture.CreateWorker(new Dictionary<string, string?>(broker.Settings)
        {
            ["Seckill:Worker:MaxOrdersPerSecond"] = rate.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await worker.StartAsync();
        Assert.True(await Waiting.UntilAsync(async () => await fixture.SoldAsync(campaign.Id) == orders, TimeSpan.FromSeconds(30)),
            $"{orders} orders at {rate}/s were not all written within 30 s");
        await worker.StopAsync();

        var written = await CreatedAtAsync(campaign.Id);
        Assert.Equal(orders, written.Count);
        // A grant is at most a tenth of a second of the rate: at 7/s that is one order, so each has its own transaction and timestamp.
        Assert.Equal(orders, written.Distinct().Count());
        var window = written[^1] - written[0];
        var measured = (orders - 1) / window.TotalSeconds;
        var gaps = string.Join(" ", written.Zip(written.Skip(1), (a, b) => (b - a).TotalMilliseconds.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)));
        TestContext.Current.TestOutputHelper?.WriteLine($"{measured:F3} orders/s over {window.TotalSeconds:F3} s; ms between orders: {gaps}");
        Assert.True(measured >= rate * 0.95 && measured <= rate * 1.05,
            $"{measured:F3} orders/s at a set rate of {rate}/s (allowed {rate * 0.95:F2}..{rate * 1.05:F2}); the gaps are in the output");
        await fixture.AssertDrainedAsync(campaign.Id, shards, orders);
    }

    private async Task<List<DateTime>> CreatedAtAsync(Guid campaignId)
    {
        await using var command = fixture.Database.CreateCommand("SELECT created_at FROM orders WHERE campaign_id = $1 ORDER BY created_at");
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = campaignId });
        await using var reader = await command.ExecuteReaderAsync();
        var written = new List<DateTime>();
        while (await reader.ReadAsync())
        {
            written.Add(reader.GetDateTime(0));
        }

        return written;
    }
}
