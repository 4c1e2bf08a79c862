using System.Net;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Payments;

/// <summary>
/// A sale in waves: a crowd buys, a third of the winners never pay, their orders expire and their units
/// are sold to the next wave — each returned unit exactly once — until every unit is paid for. After
/// every wave the widened invariant holds exactly: stock = paid + awaiting + Σ shard stock.
/// </summary>
[Collection(PaymentTests.Name)]
public class Selling_to_winners_who_do_not_all_pay(PipelineFixture fixture)
{
    [Fact]
    public async Task Every_unit_an_unpaid_winner_gives_back_is_sold_again_once_and_the_books_balance()
    {
        const int stock = 90, shards = 3;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        using var first = fixture.CreateWorker(PaymentStores.QuickExpiry(broker.Settings));
        using var second = fixture.CreateWorker(PaymentStores.QuickExpiry(broker.Settings));
        await Task.WhenAll(first.StartAsync(), second.StartAsync());
        var campaign = await fixture.AdminClient(intake).CreateCampaignAsync(stock, shards);
        var client = intake.CreateClient();
        var crowd = new List<string>();
        var winners = new Dictionary<string, Guid>();
        var (paid, expired, onSale, refusedByMarker) = (0, 0, stock, 0);
        var random = new Random(13);

        foreach (var (wave, newcomers) in new[] { (1, 300), (2, 100), (3, 100) })
        {
            crowd.AddRange(Enumerable.Range(0, newcomers).Select(i => $"wave{wave}-{i}-{Guid.NewGuid():N}"));
            // Everyone comes (back): earlier winners, paid or expired, are refused; the rest compete for what is on sale.
            var arrivals = crowd.ToArray();
            random.Shuffle(arrivals);
            var responses = await Task.WhenAll(arrivals.Select(buyer => client.BuyAsync(campaign.Id, buyer)));
            var answers = new List<(string Buyer, HttpStatusCode Status, string? Code)>();
            var waveWinners = new List<string>();
            foreach (var (buyer, response) in arrivals.Zip(responses))
            {
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    winners.Add(buyer, await response.AcceptedReservationAsync());
                    waveWinners.Add(buyer);
                    answers.Add((buyer, response.StatusCode, null));
                }
                else
                {
                    answers.Add((buyer, response.StatusCode, (await response.ReadProblemAsync()).Code));
                }
            }

            Assert.Equal(onSale, waveWinners.Count);
            var earlier = winners.Keys.Except(waveWinners).ToHashSet();
            // An earlier winner is refused by their marker, or by the sold-out answer the intake checks first.
            Assert.All(answers.Where(a => earlier.Contains(a.Buyer)), a => Assert.True(
                (a.Status, a.Code) is (HttpStatusCode.Conflict, "already-purchased") or (HttpStatusCode.Gone, "sold-out"), $"{a.Buyer}: {a.Status} {a.Code}"));
            refusedByMarker += answers.Count(a => earlier.Contains(a.Buyer) && a.Code == "already-purchased");

            Assert.All(answers.Where(a => !winners.ContainsKey(a.Buyer)), a => Assert.Equal((HttpStatusCode.Gone, "sold-out"), (a.Status, a.Code)));

            await fixture.WaitForOrdersAsync(campaign.Id, winners.Count);
            // A third of this wave's winners never pay, except in the last wave.
            var unpaid = wave < 3 ? waveWinners.Where((_, i) => i % 3 == 0).ToList() : [];
            var paying = waveWinners.Except(unpaid).ToList();
            var payments = await Task.WhenAll(paying.Select(b => client.PayAsync(winners[b], b, $"card-{b}")));
            Assert.All(payments, p => Assert.Equal(HttpStatusCode.OK, p.StatusCode));
            if (unpaid.Count > 0)
            {
                await fixture.MoveDeadlinesAsync(campaign.Id, "-1 millisecond", [.. unpaid.Select(b => winners[b])]);
            }

            (paid, expired, onSale) = (paid + paying.Count, expired + unpaid.Count, unpaid.Count);
            var tally = await fixture.AssertSettledAsync(campaign.Id, shards, stock);
            Assert.Equal((paid, 0, expired, (long)onSale), (tally.Paid, tally.Awaiting, tally.Expired, tally.Redis.TotalStock));
            Assert.All(unpaid, b => Assert.Equal("payment-expired", tally.Orders[winners[b]].Status));
            foreach (var buyer in unpaid)
            {
                var late = await client.PayAsync(winners[buyer], buyer, $"card-{buyer}");
                Assert.Equal((HttpStatusCode.Gone, "payment-expired"), (late.StatusCode, (await late.ReadProblemAsync()).Code));
            }

            // The next wave comes after the intake's in-memory sold-out answer (half a second) has lapsed.
            await Task.Delay(TimeSpan.FromMilliseconds(600));
        }

        Assert.True(refusedByMarker > 0, "no earlier winner reached Redis to be refused by their marker");
        var final = await fixture.AssertSettledAsync(campaign.Id, shards, stock);
        Assert.Equal((stock, 0, 40, 0L), (final.Paid, final.Awaiting, final.Expired, final.Redis.TotalStock));
        Assert.Equal(stock + 40, final.Orders.Count);
        Assert.Equal(stock, await fixture.SoldAsync(campaign.Id));
        await Task.WhenAll(first.StopAsync(), second.StopAsync());
    }
}
