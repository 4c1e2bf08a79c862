using System.Globalization;
using System.Net;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Faults;

public class Losing_the_broker_while_buyers_arrive(PipelineFixture fixture)
{
    [Fact]
    public async Task Answers_503_with_units_back_loses_no_202_and_sells_again_after()
    {
        const int stock = 400, shards = 4;
        await using var relay = new TcpProxy(int.Parse(fixture.Settings["Seckill:RabbitMq:Port"]!, CultureInfo.InvariantCulture));
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        var throughRelay = new Dictionary<string, string?>(broker.Settings)
        {
            ["Seckill:RabbitMq:Port"] = relay.Port.ToString(CultureInfo.InvariantCulture),
            ["Seckill:Intake:PublishTimeout"] = "00:00:05",
        };
        await using var intake = fixture.CreateIntake(throughRelay);
        using var worker = fixture.CreateWorker(throughRelay);
        await worker.StartAsync();
        var client = intake.CreateClient();
        var campaign = await fixture.CreateCampaignAsync(stock, shards);
        var accepted = new HashSet<Guid>();

        await BuyAsync(client, campaign.Id, "before", 100, accepted, expect: HttpStatusCode.Accepted);

        relay.Cut();
        await BuyAsync(client, campaign.Id, "during", 100, accepted, expect: HttpStatusCode.ServiceUnavailable);
        var duringOutage = await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards);
        Assert.All(duringOutage.ParsedTokens.Where(t => t.Fields["u"].StartsWith("during", StringComparison.Ordinal)),
            t => Assert.Equal("failed", t.Fields["s"]));
        Assert.DoesNotContain(duringOutage.Markers.Keys, k => k.Contains(":buyer:during", StringComparison.Ordinal));

        relay.Open();
        Assert.True(await Waiting.UntilAsync(async () =>
        {
            var probe = await client.BuyAsync(campaign.Id, "probe");
            if (probe.StatusCode == HttpStatusCode.Accepted)
            {
                accepted.Add(await probe.AcceptedReservationAsync());
                return true;
            }

            return false;
        }, TimeSpan.FromSeconds(60)), "sales did not resume after the broker came back");
        await BuyAsync(client, campaign.Id, "after", 100, accepted, expect: HttpStatusCode.Accepted);

        await fixture.AssertDrainedAsync(campaign.Id, shards, stock);
        await worker.StopAsync();
        Assert.Equal(201, accepted.Count);
        Assert.Equal(accepted.Count, await fixture.CountAsync(
            "SELECT count(*) FROM orders WHERE campaign_id = $1 AND reservation_id = ANY($2)", campaign.Id, accepted.ToArray()));
        Assert.Equal(accepted.Count, await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1", campaign.Id));
    }

    private static async Task BuyAsync(HttpClient client, Guid campaignId, string prefix, int buyers, HashSet<Guid> accepted, HttpStatusCode expect)
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, buyers).Select(i => client.BuyAsync(campaignId, $"{prefix}-{i}")));
        foreach (var response in responses)
        {
            Assert.Equal(expect, response.StatusCode);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                accepted.Add(await response.AcceptedReservationAsync());
            }
            else
            {
                Assert.NotNull(response.Headers.RetryAfter);
            }
        }
    }
}
