using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Seckill.Data.Migrations
{
    /// <summary>
    /// The worker's batch write as one function, so a batch costs one PostgreSQL round trip instead of
    /// one per statement while the campaign row is locked. The refusal reasons are
    /// <c>Seckill.Contracts.StockReturnReasons</c>, spelled out: a migration must not change with the code.
    /// </summary>
    public partial class WriteOrdersFunction : Migration
    {
        /// <summary>The function as this migration creates it; the Payments migration derives its version from it.</summary>
        internal const string Sql =
                """
                CREATE OR REPLACE FUNCTION write_orders(
                    campaign uuid, order_ids uuid[], reservation_ids uuid[], user_ids text[], shards integer[], written_at timestamptz)
                RETURNS TABLE (reservation_id uuid, order_id uuid, refusal text)
                LANGUAGE plpgsql
                AS $fn$
                DECLARE
                    capacity integer;
                    missing boolean;
                    undecided integer[];
                    attempted integer := 0;
                    chunk_size integer;
                    written integer;
                    inserted integer := 0;
                BEGIN
                    -- Taken before anything is read: every writer of this campaign's orders and refusals takes it
                    -- first, so no verdict read below can change before this transaction ends.
                    SELECT c.total_stock - c.sold INTO capacity FROM campaigns c WHERE c.id = campaign FOR UPDATE;
                    missing := NOT FOUND;

                    -- A reservation already decided (a redelivery) keeps its order or its refusal; only the rest are
                    -- written, in batch order, so of two reservations of one buyer the first one passed wins.
                    undecided := ARRAY(
                        SELECT b.n
                        FROM unnest(reservation_ids) WITH ORDINALITY AS b(id, n)
                        WHERE NOT EXISTS (SELECT FROM orders o WHERE o.reservation_id = b.id)
                          AND NOT EXISTS (SELECT FROM released_reservations r WHERE r.reservation_id = b.id)
                        ORDER BY b.n);

                    -- The real-inventory guard, sold + n <= total_stock: never more rows than the capacity left. A row
                    -- that conflicts (its buyer already has an order) leaves its unit to the next undecided reservation.
                    WHILE capacity > 0 AND attempted < cardinality(undecided) LOOP
                        chunk_size := least(capacity, cardinality(undecided) - attempted);
                        WITH chunk AS (
                            INSERT INTO orders (id, reservation_id, campaign_id, user_id, shard, created_at)
                            SELECT order_ids[u.n], reservation_ids[u.n], campaign, user_ids[u.n], shards[u.n], written_at
                            FROM unnest(undecided[attempted + 1 : attempted + chunk_size]) AS u(n)
                            ON CONFLICT DO NOTHING
                            RETURNING 1)
                        SELECT count(*) INTO written FROM chunk;
                        attempted := attempted + chunk_size;
                        capacity := capacity - written;
                        inserted := inserted + written;
                    END LOOP;

                    IF inserted > 0 THEN
                        UPDATE campaigns SET sold = sold + inserted WHERE id = campaign;
                    END IF;

                    -- Every new refusal is recorded under the same lock, so a redelivered message gets the same verdict.
                    -- A reservation never tried found no capacity left: its unit never existed as real stock.
                    -- One row per reservation, in the order passed: the caller matches them by position.
                    RETURN QUERY
                    WITH verdicts AS (
                        SELECT b.n, b.id, o.id AS order_id,
                            CASE
                                WHEN o.id IS NOT NULL THEN NULL
                                WHEN r.reason IS NOT NULL THEN r.reason::text
                                WHEN missing THEN 'write-failed'
                                WHEN u.k <= attempted THEN 'duplicate-buyer'
                                ELSE 'sold-out-in-database'
                            END AS refusal,
                            o.id IS NULL AND r.reason IS NULL AS new_refusal
                        FROM unnest(reservation_ids) WITH ORDINALITY AS b(id, n)
                        LEFT JOIN orders o ON o.reservation_id = b.id
                        LEFT JOIN released_reservations r ON r.reservation_id = b.id
                        LEFT JOIN unnest(undecided) WITH ORDINALITY AS u(n, k) ON u.n = b.n
                    ), recorded AS (
                        INSERT INTO released_reservations (reservation_id, campaign_id, reason, released_at)
                        SELECT v.id, campaign, v.refusal, written_at FROM verdicts v WHERE v.new_refusal
                        ON CONFLICT DO NOTHING)
                    SELECT v.id, v.order_id, v.refusal FROM verdicts v ORDER BY v.n;
                END
                $fn$;
                """;

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(Sql);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS write_orders(uuid, uuid[], uuid[], text[], integer[], timestamptz);");
        }
    }
}
