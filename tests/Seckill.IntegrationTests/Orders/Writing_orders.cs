using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Orders;

public class Writing_orders(PipelineFixture fixture)
{
    private readonly HttpClient _client = fixture.AnonymousClient();

    [Fact]
    public async Task Turns_an_accepted_purchase_into_an_order_row_and_a_confirmed_reservation()
    {
        var campaign = await fixture.CreateCampaignAsync(stock: 3, shards: 2);

        var reservationId = await (await _client.BuyAsync(campaign.Id, "end-to-end")).AcceptedReservationAsync();

        var reservation = await WaitForStatusAsync(reservationId, "end-to-end", "awaiting-payment");
        Assert.NotNull(reservation.OrderId);
        Assert.Equal(1, await fixture.CountAsync(
            "SELECT count(*) FROM orders WHERE id = $1 AND reservation_id = $2 AND campaign_id = $3 AND user_id = 'end-to-end'",
            reservation.OrderId!.Value, reservationId, campaign.Id));
        await fixture.AssertDrainedAsync(campaign.Id, 2, 3);
    }

    [Fact]
    public async Task Writes_a_crowd_of_orders_exactly_once_each()
    {
        var campaign = await fixture.CreateCampaignAsync(stock: 300, shards: 4);

        var responses = await Task.WhenAll(Enumerable.Range(0, 400).Select(i => _client.BuyAsync(campaign.Id, $"crowd-buyer-{i}")));

        Assert.Equal(300, responses.Count(r => r.StatusCode == System.Net.HttpStatusCode.Accepted));
        await fixture.AssertDrainedAsync(campaign.Id, 4, 300);
        Assert.Equal(300, await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1", campaign.Id));
    }

    private async Task<ReservationJson> WaitForStatusAsync(Guid reservationId, string userId, string status)
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            var reservation = await _client.ReservationAsync(reservationId, userId);
            if (reservation?.Status == status)
            {
                return reservation;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Reservation {reservationId} did not become {status} within 30 s.");
    }
}
