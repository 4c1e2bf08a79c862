namespace Seckill.IntegrationTests.Fixtures;

/// <summary>
/// A test-only trigger makes PostgreSQL refuse the order of every buyer named <c>reject-…</c>
/// (RAISE, SQLSTATE P0001), as a real write failure of that one row would; no other test uses the prefix.
/// </summary>
public static class RejectedOrders
{
    public const string BuyerPrefix = "reject-";

    /// <summary>Idempotent and race-safe: parallel tests may install it at the same moment.</summary>
    public static async Task InstallRejectTriggerAsync(this PipelineFixture fixture)
    {
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
