namespace Seckill.IntegrationTests.Fixtures;

/// <summary>
/// A test-only trigger makes PostgreSQL refuse the order of every buyer named <c>reject-…</c>
/// (RAISE, SQLSTATE P0001), as a real write failure of that one row would; no other test uses the prefix.
/// </summary>
public static class RejectedOrders
{
    public const string BuyerPrefix = "reject-";

    public static Task InstallRejectTriggerAsync(this PipelineFixture fixture) =>
        fixture.InstallOrderTriggerAsync("test_reject_orders",
            """
            BEGIN
              IF NEW.user_id LIKE 'reject-%' THEN
                RAISE EXCEPTION 'test trigger rejects the order of %', NEW.user_id;
              END IF;
              RETURN NEW;
            END
            """);
}
