using System.Diagnostics;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Orders;

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
}
