using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Orders;

/// <summary>
/// A test-only trigger (<see cref="RejectedOrders"/>) makes PostgreSQL refuse the orders of buyers
/// named <c>reject-…</c>, as a real write failure would; no other test uses that prefix.
/// </summary>
public class Failing_to_write_orders(PipelineFixture fixture)
{
    private readonly HttpClient _client = fixture.AnonymousClient();

    [Fact]
    public async Task Fails_only_those_reservations_and_returns_their_units_to_their_shards()
    {
        await fixture.InstallRejectTriggerAsync();
        const int shards = 4, stock = 20;
        var campaign = await fixture.CreateCampaignAsync(stock, shards);
        var rejected = Enumerable.Range(0, 8).Select(i => $"{RejectedOrders.BuyerPrefix}{Guid.NewGuid():N}-{i}").ToList();
        var accepted = Enumerable.Range(0, 8).Select(i => $"fine-{Guid.NewGuid():N}-{i}").ToList();

        var reservations = new Dictionary<string, Guid>();
        foreach (var buyer in rejected.Concat(accepted))
        {
            reservations[buyer] = await (await _client.BuyAsync(campaign.Id, buyer)).AcceptedReservationAsync();
        }

        var redis = await fixture.AssertDrainedAsync(campaign.Id, shards, stock);

        Assert.Equal(8, await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1", campaign.Id));
        Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1 AND user_id LIKE 'reject-%'", campaign.Id));
        Assert.Equal(12, redis.TotalStock);
        foreach (var buyer in rejected)
        {
            var token = redis.ParsedTokens.Single(t => t.Fields["u"] == buyer);
            Assert.Equal("failed", token.Fields["s"]);
            Assert.Equal("write-failed", token.Fields["r"]);
            var reservation = await _client.ReservationAsync(reservations[buyer], buyer);
            Assert.Equal("failed", reservation!.Status);
            Assert.Equal("write-failed", reservation.Reason);
        }

        // The failed buyers are free again: their markers are gone.
        Assert.DoesNotContain(redis.Markers.Keys, key => rejected.Any(buyer => key.EndsWith($":buyer:{buyer}", StringComparison.Ordinal)));
        foreach (var buyer in accepted)
        {
            Assert.Equal("awaiting-payment", (await _client.ReservationAsync(reservations[buyer], buyer))!.Status);
        }
    }
}
