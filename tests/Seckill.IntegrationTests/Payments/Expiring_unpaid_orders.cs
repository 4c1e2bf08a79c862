using System.Diagnostics;
using System.Net;
using Npgsql;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Payments;

/// <summary>
/// An order still unpaid at its deadline is cancelled by a worker within seconds: payment-expired in
/// PostgreSQL, its unit out of <c>sold</c> and back on its shard through compensation, so a sold-out
/// campaign reopens for it — and however many workers expire at once, and however often a return is
/// asked for, every unit comes back exactly once.
/// </summary>
[Collection(PaymentTests.Name)]
public class Expiring_unpaid_orders(PipelineFixture fixture)
{
    /// <summary>An expiry round every 100 ms; "within a few seconds" with room for a loaded machine.</summary>
    private static readonly TimeSpan ExpiryBound = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Returns_the_unit_of_an_unpaid_order_so_the_sold_out_campaign_sells_it_again()
    {
        const int stock = 2, shards = 2;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        using var worker = fixture.CreateWorker(PaymentStores.QuickExpiry(broker.Settings));
        await worker.StartAsync();
        var campaign = await fixture.AdminClient(intake).CreateCampaignAsync(stock, shards);
        var client = intake.CreateClient();
        var (late, prompt, next) = ($"late-{Guid.NewGuid():N}", $"prompt-{Guid.NewGuid():N}", $"next-{Guid.NewGuid():N}");
        var lateReservation = await (await client.BuyAsync(campaign.Id, late)).AcceptedReservationAsync();
        var promptReservation = await (await client.BuyAsync(campaign.Id, prompt)).AcceptedReservationAsync();
        var soldOut = await client.BuyAsync(campaign.Id, next);
        Assert.Equal(HttpStatusCode.Gone, soldOut.StatusCode);
        Assert.Equal("sold-out", (await soldOut.ReadProblemAsync()).Code);
        await fixture.WaitForOrdersAsync(campaign.Id, 2);
        Assert.Equal(HttpStatusCode.OK, (await client.PayAsync(promptReservation, prompt, "prompt-card")).StatusCode);
        var settledBefore = await fixture.AssertSettledAsync(campaign.Id, shards, stock);
        Assert.Equal((1, 1, 0, 0L), (settledBefore.Paid, settledBefore.Awaiting, settledBefore.Expired, settledBefore.Redis.TotalStock));

        var deadline = await fixture.MoveDeadlinesAsync(campaign.Id, "1 second", [lateReservation]);
        var expired = await Waiting.UntilAsync(
            async () => (await fixture.OrderRowAsync(campaign.Id, lateReservation)).UnitReturnedAt is not null, TimeSpan.FromSeconds(30));
        Assert.True(expired, "the unpaid order was not expired with its unit back");
        var row = await fixture.OrderRowAsync(campaign.Id, lateReservation);
        Assert.Equal("payment-expired", row.Status);
        Assert.InRange(row.ExpiredAt!.Value - deadline, TimeSpan.Zero, ExpiryBound);
        Assert.InRange(row.UnitReturnedAt!.Value - row.ExpiredAt.Value, TimeSpan.Zero, ExpiryBound);
        Assert.Equal(1, await fixture.SoldAsync(campaign.Id));
        var token = await fixture.TokenAsync(campaign.Id, lateReservation);
        Assert.Equal(("expired", "payment-expired", late), (token["s"], token["r"], token["u"]));
        Assert.Equal(1, await fixture.VirtualStockAsync(campaign.Id, row.Shard));
        var view = (await client.ReservationAsync(lateReservation, late))!;
        Assert.Equal(("payment-expired", row.OrderId, "payment-expired"), (view.Status, view.OrderId, view.Reason));

        var again = await client.BuyAsync(campaign.Id, late);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("already-purchased", (await again.ReadProblemAsync()).Code);

        // The next buyer gets the unit once the intake's sold-out flag (half a second) has lapsed.
        var sinceReturn = Stopwatch.StartNew();
        HttpResponseMessage response;
        do
        {
            response = await client.BuyAsync(campaign.Id, next);
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                Assert.Equal("sold-out", (await response.ReadProblemAsync()).Code);
                await Task.Delay(50);
            }
        }
        while (response.StatusCode != HttpStatusCode.Accepted && sinceReturn.Elapsed < TimeSpan.FromSeconds(5));

        var nextReservation = await response.AcceptedReservationAsync();
        var last = await client.BuyAsync(campaign.Id, $"after-{Guid.NewGuid():N}");
        Assert.Equal(HttpStatusCode.Gone, last.StatusCode);
        await fixture.WaitForOrdersAsync(campaign.Id, 3);
        Assert.Equal(HttpStatusCode.OK, (await client.PayAsync(nextReservation, next, "next-card")).StatusCode);

        var tally = await fixture.AssertSettledAsync(campaign.Id, shards, stock);
        Assert.Equal((2, 0, 1, 0L), (tally.Paid, tally.Awaiting, tally.Expired, tally.Redis.TotalStock));
        Assert.Equal(
            new Dictionary<string, string> { [late] = "payment-expired", [prompt] = "paid", [next] = "paid" },
            tally.Orders.Values.ToDictionary(o => o.UserId, o => o.Status));
        await worker.StopAsync();
    }

    /// <summary>
    /// Two workers expire the same due orders in batches of five while a third connection runs the same
    /// function as a worker that crashes right after each commit (its units are owed, and the workers'
    /// outbox asks for them). A test-only trigger records which connection moved each order. Then every
    /// unit's return is asked for once more, as after a confirmation that was lost: the shards must not
    /// grow by a single unit.
    /// </summary>
    [Fact]
    public async Task Two_workers_expiring_at_once_release_every_unit_exactly_once()
    {
        const int stock = 300, shards = 4;
        await InstallExpiryRecorderAsync();
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        var campaign = await fixture.AdminClient(intake).CreateCampaignAsync(stock, shards);
        var client = intake.CreateClient();
        var buyers = Enumerable.Range(0, stock).Select(i => $"twice-{i}-{Guid.NewGuid():N}").ToList();
        var responses = await Task.WhenAll(buyers.Select(b => client.BuyAsync(campaign.Id, b)));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        using var first = fixture.CreateWorker(ExpiringAs("expiry-first", broker));
        using var second = fixture.CreateWorker(ExpiringAs("expiry-second", broker));
        await Task.WhenAll(first.StartAsync(), second.StartAsync());
        await fixture.WaitForOrdersAsync(campaign.Id, stock);
        var before = await fixture.AssertSettledAsync(campaign.Id, shards, stock);
        Assert.Equal((0, stock, 0L), (before.Paid, before.Awaiting, before.Redis.TotalStock));

        await using var crashingSource = NpgsqlDataSource.Create(ConnectionAs("expiry-crashed"));
        using var stopCrashing = new CancellationTokenSource();
        var crashing = Task.Run(async () =>
        {
            while (!stopCrashing.IsCancellationRequested)
            {
                await using var command = crashingSource.CreateCommand("SELECT count(*) FROM expire_unpaid_orders(5)");
                await command.ExecuteScalarAsync();
                await Task.Delay(20);
            }
        });
        await fixture.MoveDeadlinesAsync(campaign.Id, "-1 millisecond");
        var allExpired = await Waiting.UntilAsync(
            async () => await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1 AND status = 'awaiting-payment'", campaign.Id) == 0,
            TimeSpan.FromSeconds(30));
        await stopCrashing.CancelAsync();
        await crashing;
        Assert.True(allExpired, "orders were still awaiting payment 30 s after their deadline");

        var tally = await fixture.AssertSettledAsync(campaign.Id, shards, stock);
        Assert.Equal((0, 0, stock, (long)stock), (tally.Paid, tally.Awaiting, tally.Expired, tally.Redis.TotalStock));
        var moves = await MovesAsync(campaign.Id);
        Assert.Equal(stock, moves.Count);
        Assert.Equal(stock, moves.Select(m => m.Reservation).Distinct().Count());
        Assert.All(moves, m => Assert.Equal("awaiting-payment", m.From));
        var byWorker = moves.GroupBy(m => m.Application).ToDictionary(g => g.Key, g => g.Count());
        TestContext.Current.TestOutputHelper?.WriteLine($"orders expired by: {string.Join(", ", byWorker.Select(w => $"{w.Key}={w.Value}"))}");
        Assert.True(byWorker.GetValueOrDefault("expiry-first") > 0 && byWorker.GetValueOrDefault("expiry-second") > 0,
            $"both workers must have expired some: {string.Join(", ", byWorker.Select(w => $"{w.Key}={w.Value}"))}");

        // Every return asked for again, as when the unit went back but the confirmation was never written.
        Assert.Equal(stock, await fixture.CountAsync(
            """
            WITH again AS (
                UPDATE orders SET unit_returned_at = NULL
                WHERE campaign_id = $1 AND status = 'payment-expired' RETURNING 1)
            SELECT count(*) FROM again
            """, campaign.Id));
        var tallyAgain = await fixture.AssertSettledAsync(campaign.Id, shards, stock);
        Assert.Equal(tally.Redis.Stock, tallyAgain.Redis.Stock);
        Assert.Equal(stock, tallyAgain.Expired);

        await Task.WhenAll(first.StopAsync(), second.StopAsync());
    }

    private string ConnectionAs(string application) =>
        new NpgsqlConnectionStringBuilder(fixture.Settings["ConnectionStrings:Seckill"]) { ApplicationName = application }.ConnectionString;

    private Dictionary<string, string?> ExpiringAs(string application, IsolatedBroker broker) => new(PaymentStores.QuickExpiry(broker.Settings))
    {
        ["Seckill:Payments:ExpiryBatchSize"] = "5",
        ["ConnectionStrings:Seckill"] = ConnectionAs(application),
    };

    /// <summary>
    /// Test-only: every UPDATE that moves an order to payment-expired (it sets <c>expired_at</c>) is
    /// recorded with the connection's application name and the status it moved from, so a second move of
    /// one order would show as a second row. Idempotent and race-safe like <see cref="OrderTriggers"/>.
    /// </summary>
    private async Task InstallExpiryRecorderAsync()
    {
        await using var command = fixture.Database.CreateCommand(
            """
            DO $$
            BEGIN
              PERFORM pg_advisory_xact_lock(4242);
              CREATE TABLE IF NOT EXISTS test_order_expiries (
                reservation_id uuid NOT NULL, campaign_id uuid NOT NULL, application text NOT NULL, from_status text NOT NULL);
              CREATE OR REPLACE FUNCTION test_record_expiry() RETURNS trigger LANGUAGE plpgsql AS $f$
              BEGIN
                INSERT INTO test_order_expiries VALUES (NEW.reservation_id, NEW.campaign_id, current_setting('application_name'), OLD.status);
                RETURN NEW;
              END
              $f$;
              CREATE OR REPLACE TRIGGER test_record_expiry AFTER UPDATE ON orders FOR EACH ROW
                WHEN (NEW.status = 'payment-expired' AND NEW.expired_at IS DISTINCT FROM OLD.expired_at)
                EXECUTE FUNCTION test_record_expiry();
            END $$;
            """);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<List<(Guid Reservation, string Application, string From)>> MovesAsync(Guid campaignId)
    {
        await using var command = fixture.Database.CreateCommand(
            "SELECT reservation_id, application, from_status FROM test_order_expiries WHERE campaign_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = campaignId });
        await using var reader = await command.ExecuteReaderAsync();
        var moves = new List<(Guid, string, string)>();
        while (await reader.ReadAsync())
        {
            moves.Add((reader.GetGuid(0), reader.GetString(1), reader.GetString(2)));
        }

        return moves;
    }
}
