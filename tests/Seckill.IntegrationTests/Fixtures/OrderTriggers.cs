namespace Seckill.IntegrationTests.Fixtures;

/// <summary>
/// Test-only <c>BEFORE INSERT</c> triggers on <c>orders</c>, the way the fault tests make PostgreSQL
/// refuse or stall a write. Idempotent and race-safe: parallel tests may install one at the same moment.
/// </summary>
public static class OrderTriggers
{
    /// <param name="name">The trigger's and its function's name.</param>
    /// <param name="functionBody">The PL/pgSQL body (DECLARE … BEGIN … END) of <c>name()</c>.</param>
    /// <param name="setup">SQL run first, under the same lock (e.g. a table the function reads).</param>
    public static async Task InstallOrderTriggerAsync(this PipelineFixture fixture, string name, string functionBody, string setup = "")
    {
        await using var command = fixture.Database.CreateCommand(
            $$"""
            DO $$
            BEGIN
              PERFORM pg_advisory_xact_lock(4242);
              {{setup}}
              CREATE OR REPLACE FUNCTION {{name}}() RETURNS trigger LANGUAGE plpgsql AS $f$
              {{functionBody}}
              $f$;
              IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '{{name}}') THEN
                CREATE TRIGGER {{name}} BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION {{name}}();
              END IF;
            END $$;
            """);
        await command.ExecuteNonQueryAsync();
    }
}
