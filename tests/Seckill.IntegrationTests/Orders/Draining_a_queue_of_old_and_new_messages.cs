using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Orders;

/// <summary>
/// A rolling upgrade: intakes of the earlier version publish one purchase per message, upgraded ones
/// group them, and both forms wait in one seckill-orders queue for whichever worker comes next.
/// </summary>
public class Draining_a_queue_of_old_and_new_messages(PipelineFixture fixture)
{
    [Fact]
    public async Task Writes_exactly_one_order_per_purchase_whichever_form_carried_it()
    {
        const int alone = 12, crowd = 200, stock = alone + crowd, shards = 4;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(stock, shards);
        await using var tap = await AcceptedTap.StartAsync(fixture, campaign.Id, broker.VirtualHost);
        var client = intake.CreateClient();
        var accepted = new Dictionary<string, Guid>();

        // One at a time, each purchase finds a publisher loop idle and goes out alone, as an earlier intake sends it.
        for (var i = 0; i < alone; i++)
        {
            var user = $"alone-{i}";
            accepted.Add(user, await (await client.BuyAsync(campaign.Id, user)).AcceptedReservationAsync());
        }

        var oneByOne = accepted.Values.ToHashSet();
        // At once, purchases queue behind the publish in flight and share the next message.
        var users = Enumerable.Range(0, crowd).Select(i => $"crowd-{i}").ToList();
        var responses = await Task.WhenAll(users.Select(user => client.BuyAsync(campaign.Id, user)));
        for (var i = 0; i < crowd; i++)
        {
            accepted.Add(users[i], await responses[i].AcceptedReservationAsync());
        }

        var published = await tap.SettleAsync(stock, TimeSpan.FromSeconds(10));
        Assert.Equal(stock, published.Count);
        Assert.True(accepted.Values.ToHashSet().SetEquals(published), "every 202 was published exactly once");
        Assert.Subset(tap.PublishedAlone.ToHashSet(), oneByOne);
        Assert.True(tap.GroupedMessages > 0, $"the crowd of {crowd} went out in {tap.SingleMessages} single messages and no group: nothing of the new form to drain");
        // Nothing consumed yet: the queue holds exactly the messages of both forms the tap saw.
        Assert.Equal((uint)(tap.SingleMessages + tap.GroupedMessages), await broker.ReadyMessagesAsync("seckill-orders"));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{stock} purchases in {tap.SingleMessages} single and {tap.GroupedMessages} grouped messages ({stock - tap.PublishedAlone.Count} purchases grouped)");

        using var worker = fixture.CreateWorker(broker.Settings);
        await worker.StartAsync();
        var redis = await fixture.AssertDrainedAsync(campaign.Id, shards, stock, TimeSpan.FromSeconds(30));
        await worker.StopAsync();

        var orders = await fixture.OrdersAsync(campaign.Id);
        Assert.Equal(accepted.Values.Order(), orders.Keys.Order());
        foreach (var (user, reservationId) in accepted)
        {
            Assert.Equal(user, orders[reservationId].UserId);
        }

        Assert.Equal(accepted.Keys.Order(), redis.ParsedTokens.Select(t => t.Fields["u"]).Order());
        Assert.All(redis.ParsedTokens, t => Assert.Equal("confirmed", t.Fields["s"]));
        Assert.Equal(0, redis.TotalStock);
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders"));
        Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders_error"));
        Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM released_reservations WHERE campaign_id = $1", campaign.Id));
    }
}
