using System.Net;
using System.Net.Http.Json;
using Npgsql;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Payments;

/// <summary>
/// Pay racing expiry: 200 orders whose deadlines pass 5 ms apart while two workers expire every 100 ms,
/// each paid within ±40 ms of its own deadline. Every order ends paid or expired — never both, never
/// neither — and every buyer was told what happened to their order.
/// </summary>
[Collection(PaymentTests.Name)]
public class Paying_as_the_deadline_passes(PipelineFixture fixture)
{
    private sealed record Outcome(Guid Reservation, string Reference, HttpStatusCode Status, string? Code, DateTimeOffset? PaidAt);

    [Fact]
    public async Task Each_of_200_races_with_expiry_has_exactly_one_winner_and_the_loser_is_told_so()
    {
        const int stock = 200, shards = 4;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        var campaign = await fixture.AdminClient(intake).CreateCampaignAsync(stock, shards);
        var client = intake.CreateClient();
        var buyers = new Dictionary<Guid, string>();
        foreach (var batch in Enumerable.Range(0, stock).Select(i => $"racer-{i}-{Guid.NewGuid():N}").Chunk(50))
        {
            var responses = await Task.WhenAll(batch.Select(b => client.BuyAsync(campaign.Id, b)));
            foreach (var (buyer, response) in batch.Zip(responses))
            {
                buyers.Add(await response.AcceptedReservationAsync(), buyer);
            }
        }

        using var first = fixture.CreateWorker(PaymentStores.QuickExpiry(broker.Settings));
        using var second = fixture.CreateWorker(PaymentStores.QuickExpiry(broker.Settings));
        await Task.WhenAll(first.StartAsync(), second.StartAsync());
        await fixture.WaitForOrdersAsync(campaign.Id, stock);
        var written = await fixture.AssertSettledAsync(campaign.Id, shards, stock);
        Assert.Equal((0, stock, 0L), (written.Paid, written.Awaiting, written.Redis.TotalStock));

        var deadlines = await SpreadDeadlinesAsync(campaign.Id);
        Assert.Equal(stock, deadlines.Count);
        var outcomes = await Task.WhenAll(deadlines.Select((deadline, i) => Task.Run(async () =>
        {
            var (reservation, at) = (deadline.Key, deadline.Value + TimeSpan.FromMilliseconds((i * 37 % 81) - 40));
            var wait = at - DateTimeOffset.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            var reference = $"race-{i}-{Guid.NewGuid():N}";
            var response = await client.PayAsync(reservation, buyers[reservation], reference);
            return response.StatusCode == HttpStatusCode.OK
                ? new Outcome(reservation, reference, response.StatusCode, null, (await response.Content.ReadFromJsonAsync<PaidJson>())!.PaidAt)
                : new Outcome(reservation, reference, response.StatusCode, (await response.ReadProblemAsync()).Code, null);
        })));

        var tally = await fixture.AssertSettledAsync(campaign.Id, shards, stock);
        Assert.Equal(0, tally.Awaiting);
        Assert.Equal(stock, tally.Paid + tally.Expired);
        foreach (var outcome in outcomes)
        {
            var order = tally.Orders[outcome.Reservation];
            if (outcome.Status == HttpStatusCode.OK)
            {
                Assert.Equal(("paid", outcome.PaidAt, outcome.Reference), (order.Status, order.PaidAt, order.PaymentReference));
            }
            else
            {
                Assert.True(outcome.Status == HttpStatusCode.Gone && outcome.Code == "payment-expired", $"{outcome.Reservation}: {outcome.Status} {outcome.Code}");
                Assert.Equal(("payment-expired", (string?)null), (order.Status, order.PaymentReference));
                Assert.InRange(order.ExpiredAt!.Value - order.PaymentDeadline!.Value, TimeSpan.Zero, TimeSpan.FromSeconds(5));
            }
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"paid {tally.Paid}, expired {tally.Expired}");
        Assert.True(tally.Paid > 0 && tally.Expired > 0, $"no race was run: {tally.Paid} paid, {tally.Expired} expired");
        // Units returned = expired orders: the shards hold exactly them, and sold only the paid ones.
        Assert.Equal(tally.Expired, tally.Redis.TotalStock);
        Assert.Equal(tally.Paid, await fixture.SoldAsync(campaign.Id));

        // Asked again, every buyer gets the same verdict, and the reservation says so too.
        foreach (var outcome in outcomes)
        {
            var again = await client.PayAsync(outcome.Reservation, buyers[outcome.Reservation], outcome.Reference);
            Assert.Equal(outcome.Status, again.StatusCode);
            Assert.Equal(tally.Orders[outcome.Reservation].Status, (await client.ReservationAsync(outcome.Reservation, buyers[outcome.Reservation]))!.Status);
        }

        await Task.WhenAll(first.StopAsync(), second.StopAsync());
    }

    /// <summary>Deadlines 5 ms apart over a second, the first 1.5 s from now by PostgreSQL's clock, in reservation order.</summary>
    private async Task<Dictionary<Guid, DateTimeOffset>> SpreadDeadlinesAsync(Guid campaignId)
    {
        await using var command = fixture.Database.CreateCommand(
            """
            UPDATE orders o SET payment_deadline = now() + interval '1500 milliseconds' + r.n * interval '5 milliseconds'
            FROM (SELECT id, row_number() OVER (ORDER BY reservation_id) - 1 AS n FROM orders WHERE campaign_id = $1) r
            WHERE o.id = r.id
            RETURNING o.reservation_id, o.payment_deadline
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = campaignId });
        await using var reader = await command.ExecuteReaderAsync();
        var deadlines = new Dictionary<Guid, DateTimeOffset>();
        while (await reader.ReadAsync())
        {
            deadlines.Add(reader.GetGuid(0), reader.GetFieldValue<DateTimeOffset>(1));
        }

        return deadlines.OrderBy(d => d.Value).ToDictionary();
    }
}
