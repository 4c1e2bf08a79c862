using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Orders;

/// <summary>
/// A test-only trigger makes PostgreSQL refuse the orders of buyers named <c>reject-…</c>, as a
/// real write failure would; no other test uses that prefix.
/// </summary>
public class Failing_to_write_orders(PipelineFixture fixture)
{
    private readonly HttpClient _client = fixture.AnonymousClient();

    [Fact]
    public async Task Fails_only_those_reservations_and_returns_their_units_to_their_shards()
    {
        await InstallRejectTriggerAsync();
        const int shards = 4, stock = 20;
        var campaign = await fixture.CreateCampaignAsync(stock, shards);
        var rejected = Enumerable.Range(0, 8).Select(i => $"reject-{Guid.NewGuid():N}-{i}").ToList();
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
            Assert.Equal("confirmed", (await _client.ReservationAsync(reservations[buyer], buyer))!.Status);
        }
    }

    private async Task InstallRejectTriggerAsync()
    {
        // Idempotent and race-safe: parallel tests may install it at the same moment.
        await using var command = fixture.Database.CreateCommand(
            """
            DO $$
            BEGIN
              PERFORM pg_advisory_xact_lock(4242);
              CREATE OR REPLACE FUNCTION test_reject_orders() RETURNS trigger LANGUAGE plpgsql AS $f$
              BEGIN
                IF NEW.user_id LIKE 'reject-%' THEN
                  RAISE EXCEPTION 'test trigger rejects the order of %', NEW.user_id;
                END IF;
                RETURN NEW;
              END $f$;
              IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'test_reject_orders') THEN
                CREATE TRIGGER test_reject_orders BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION test_reject_orders();
              END IF;
            END $$;
            """);
        await command.ExecuteNonQueryAsync();
    }
}
