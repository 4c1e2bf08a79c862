using System.Net;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Faults;

public class Killing_a_worker_mid_drain(PipelineFixture fixture)
{
    [Fact]
    public async Task Loses_nothing_and_writes_every_accepted_reservation_exactly_once()
    {
        const int stock = 1_500, shards = 4;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.CreateIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(stock, shards);
        var client = intake.CreateClient();
        var responses = await Task.WhenAll(Enumerable.Range(0, stock).Select(i => client.BuyAsync(campaign.Id, $"survivor-{i}")));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        var accepted = new HashSet<Guid>();
        foreach (var response in responses)
        {
            accepted.Add(await response.AcceptedReservationAsync());
        }

        var settings = fixture.With(new Dictionary<string, string?>(broker.Settings)
        {
            ["Seckill:Worker:MaxOrdersPerSecond"] = "400",
            ["Seckill:Worker:BatchSize"] = "50",
        });
        using (var doomed = ChildProcess.StartWorker(settings, Path.Combine(Path.GetTempPath(), $"worker-{broker.VirtualHost}.log")))
        {
            Assert.True(await Waiting.UntilAsync(async () => await fixture.SoldAsync(campaign.Id) >= 300, TimeSpan.FromSeconds(60)),
                "the first worker never started writing");
            doomed.KillHard();
        }

        var soldAtKill = await fixture.SoldAsync(campaign.Id);
        Assert.True(soldAtKill < stock, "the worker must die in the middle of the drain");

        using var successor = fixture.CreateWorker(broker.Settings);
        await successor.StartAsync();
        await fixture.AssertDrainedAsync(campaign.Id, shards, stock);
        await successor.StopAsync();

        Assert.Equal(stock, await fixture.CountAsync("SELECT count(DISTINCT reservation_id) FROM orders WHERE campaign_id = $1", campaign.Id));
        Assert.Equal(stock, await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1 AND reservation_id = ANY($2)", campaign.Id, accepted.ToArray()));
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders"));
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders_error"));
    }
}
