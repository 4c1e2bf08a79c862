using System.Globalization;
using System.Net;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Purchases;

/// <summary>
/// The intake under test reaches RabbitMQ through a relay the test can cut, so the broker goes away
/// for this intake only while the other tests keep using it.
/// </summary>
public class Buying_when_the_broker_is_down(PipelineFixture fixture)
{
    [Fact]
    public async Task Answers_503_returns_the_unit_and_sells_again_once_the_broker_is_back()
    {
        await using var relay = new TcpProxy(int.Parse(fixture.Settings["Seckill:RabbitMq:Port"]!, CultureInfo.InvariantCulture));
        await using var intake = fixture.CreateIntake(new Dictionary<string, string?>
        {
            ["Seckill:RabbitMq:Port"] = relay.Port.ToString(CultureInfo.InvariantCulture),
            ["Seckill:Intake:PublishTimeout"] = "00:00:05",
        });
        var client = intake.CreateClient();
        var campaign = await fixture.CreateCampaignAsync(stock: 1, shards: 1);

        relay.Cut();
        var refused = await client.BuyAsync(campaign.Id, "patient-buyer");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal("broker-unavailable", (await refused.ReadProblemAsync()).Code);
        var afterRefusal = await RedisSnapshot.TakeAsync(fixture, campaign.Id, 1);
        Assert.Equal([1L], afterRefusal.Stock);
        Assert.Empty(afterRefusal.Markers);
        var failed = Assert.Single(afterRefusal.ParsedTokens);
        Assert.Equal("failed", failed.Fields["s"]);
        Assert.Equal("broker-unavailable", failed.Fields["r"]);

        relay.Open();
        await using var tap = await AcceptedTap.StartAsync(fixture, campaign.Id);
        HttpResponseMessage? accepted = null;
        for (var attempt = 0; attempt < 40 && accepted is null; attempt++)
        {
            var response = await client.BuyAsync(campaign.Id, "patient-buyer");
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                accepted = response;
            }
            else
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                await Task.Delay(500);
            }
        }

        Assert.NotNull(accepted);
        var reservation = await accepted.AcceptedReservationAsync();
        var afterSale = await RedisSnapshot.TakeAsync(fixture, campaign.Id, 1);
        Assert.Equal(0, afterSale.TotalStock);
        // The refused purchase's publish may still reach the broker once the connection is back (the client
        // sends what it was given); its token is failed, so it writes nothing. Nothing else may appear.
        var refusedReservation = Guid.Parse(failed.Key[(failed.Key.LastIndexOf(':') + 1)..]);
        var published = await tap.SettleAsync(1, TimeSpan.FromSeconds(10));
        Assert.Contains(reservation, published);
        Assert.Subset(new HashSet<Guid> { reservation, refusedReservation }, published.ToHashSet());
    }
}
