using System.Net;
using Seckill.IntegrationTests.Fixtures;
using Seckill.Worker.Sweeping;

namespace Seckill.IntegrationTests.Faults;

/// <summary>
/// The sweeper's timeout is shortened to 2 s while the purchases wait far longer in the queue: a
/// rate-limited drain, or no worker at all for a while. A queued purchase is not a crashed one, so
/// every 202 must end as an order, and the sweeper must not publish any of them a second time.
/// </summary>
public class Draining_slower_than_the_sweeper_timeout(PipelineFixture fixture)
{
    [Fact]
    public async Task Every_202_becomes_an_order_when_the_rate_limited_drain_outlasts_the_timeout()
    {
        const int stock = 60, shards = 2;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(stock, shards);
        await using var tap = await AcceptedTap.StartAsync(fixture, campaign.Id, broker.VirtualHost);
        var accepted = await BuyEveryUnitAsync(intake.CreateClient(), campaign.Id, stock);

        var settings = QuickSweeper.With(broker.Settings);
        settings["Seckill:Worker:MaxOrdersPerSecond"] = "10";
        settings["Seckill:Worker:BatchSize"] = "5";
        using var worker = fixture.CreateWorker(settings, new SweptCampaign(campaign.Id, shards));
        var started = DateTime.UtcNow;
        await worker.StartAsync();
        await fixture.AssertDrainedAsync(campaign.Id, shards, stock, timeout: TimeSpan.FromSeconds(90));
        var drained = DateTime.UtcNow - started;
        await worker.StopAsync();

        Assert.True(drained > TimeSpan.FromSeconds(4), $"the drain took {drained}, not longer than the sweeper's timeout");
        await AssertEveryPurchaseWrittenOnceAsync(broker, tap, campaign.Id, accepted);
    }

    [Fact]
    public async Task Every_202_becomes_an_order_when_no_worker_runs_for_longer_than_the_timeout()
    {
        const int stock = 40, shards = 3;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(stock, shards);
        await using var tap = await AcceptedTap.StartAsync(fixture, campaign.Id, broker.VirtualHost);
        var accepted = await BuyEveryUnitAsync(intake.CreateClient(), campaign.Id, stock);

        // A deploy: no worker at all for longer than the timeout; the first one back sweeps at once.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.InRange(await broker.ReadyMessagesAsync("seckill-orders"), 1u, (uint)stock);
        using var worker = fixture.CreateWorker(QuickSweeper.With(broker.Settings), new SweptCampaign(campaign.Id, shards));
        await worker.StartAsync();
        await fixture.AssertDrainedAsync(campaign.Id, shards, stock);
        await worker.StopAsync();

        await AssertEveryPurchaseWrittenOnceAsync(broker, tap, campaign.Id, accepted);
    }

    private static async Task<List<Guid>> BuyEveryUnitAsync(HttpClient client, Guid campaignId, int stock)
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, stock).Select(i => client.BuyAsync(campaignId, $"patient-{i}")));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        var accepted = new List<Guid>(stock);
        foreach (var response in responses)
        {
            accepted.Add(await response.AcceptedReservationAsync());
        }

        return accepted;
    }

    /// <summary>Every 202 has its order, read back per reservation; each was published exactly once; no error queue holds anything.</summary>
    private async Task AssertEveryPurchaseWrittenOnceAsync(IsolatedBroker broker, AcceptedTap tap, Guid campaignId, List<Guid> accepted)
    {
        Assert.Equal(accepted.Count, await fixture.CountAsync(
            "SELECT count(*) FROM orders WHERE campaign_id = $1 AND reservation_id = ANY($2)", campaignId, accepted.ToArray()));
        Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM released_reservations WHERE campaign_id = $1", campaignId));
        var published = await tap.SettleAsync(accepted.Count, TimeSpan.FromSeconds(10));
        Assert.Equal(accepted.Order(), published.Order());
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders"));
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders_error"));
    }
}
