using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Seckill.Data.Migrations
{
    /// <summary>
    /// Orders await payment until a deadline (written time + the campaign's payment window). write_orders
    /// now stamps the deadline under the campaign lock it already holds; expire_unpaid_orders moves due
    /// orders to payment-expired and gives their units back to the real inventory. Orders written before
    /// this migration have no deadline and never expire.
    /// </summary>
    public partial class Payments : Migration
    {
        private static readonly string WriteOrdersWithDeadline = WriteOrdersFunction.Sql
            .Replace(
                "    inserted integer := 0;\n",
                "    inserted integer := 0;\n    pay_window integer;\n",
                StringComparison.Ordinal)
            .Replace(
                "SELECT c.total_stock - c.sold INTO capacity FROM campaigns c WHERE c.id = campaign FOR UPDATE;",
                "SELECT c.total_stock - c.sold, c.payment_window_seconds INTO capacity, pay_window FROM campaigns c WHERE c.id = campaign FOR UPDATE;",
                StringComparison.Ordinal)
            .Replace(
                "INSERT INTO orders (id, reservation_id, campaign_id, user_id, shard, created_at)",
                "INSERT INTO orders (id, reservation_id, campaign_id, user_id, shard, created_at, payment_deadline)",
                StringComparison.Ordinal)
            .Replace(
                "SELECT order_ids[u.n], reservation_ids[u.n], campaign, user_ids[u.n], shards[u.n], written_at\n",
                "SELECT order_ids[u.n], reservation_ids[u.n], campaign, user_ids[u.n], shards[u.n], written_at, written_at + make_interval(secs => pay_window)\n",
                StringComparison.Ordinal);

        /// <summary>
        /// One round trip per batch of due orders. The campaign rows are locked first, in id order, as
        /// write_orders locks them, so the two never wait on each other in a cycle; the due orders are then
        /// taken with SKIP LOCKED, so workers expiring at once split them and a payment in progress (which
        /// holds its order's row) is left to finish. Each order moves once: status is re-checked by the
        /// UPDATE, and sold drops by exactly the rows it moved.
        /// </summary>
        internal const string ExpireUnpaidOrders =
            """
            CREATE OR REPLACE FUNCTION expire_unpaid_orders(batch integer)
            RETURNS TABLE (reservation_id uuid, campaign_id uuid, user_id text, shard integer)
            LANGUAGE plpgsql
            AS $fn$
            DECLARE
                due_campaigns uuid[];
            BEGIN
                due_campaigns := ARRAY(
                    SELECT DISTINCT o.campaign_id FROM orders o
                    WHERE o.status = 'awaiting-payment' AND o.payment_deadline <= now()
                    ORDER BY 1);
                IF cardinality(due_campaigns) = 0 THEN
                    RETURN;
                END IF;

                PERFORM FROM campaigns c WHERE c.id = ANY(due_campaigns) ORDER BY c.id FOR UPDATE;

                RETURN QUERY
                WITH due AS (
                    SELECT o.id FROM orders o
                    WHERE o.status = 'awaiting-payment' AND o.payment_deadline <= now() AND o.campaign_id = ANY(due_campaigns)
                    ORDER BY o.payment_deadline
                    LIMIT batch
                    FOR UPDATE SKIP LOCKED
                ), expired AS (
                    UPDATE orders o SET status = 'payment-expired', expired_at = now()
                    FROM due WHERE o.id = due.id AND o.status = 'awaiting-payment'
                    RETURNING o.reservation_id, o.campaign_id, o.user_id, o.shard
                ), released AS (
                    UPDATE campaigns c SET sold = c.sold - n.count
                    FROM (SELECT e.campaign_id, count(*)::integer AS count FROM expired e GROUP BY e.campaign_id) n
                    WHERE c.id = n.campaign_id
                    RETURNING 1
                )
                SELECT e.reservation_id, e.campaign_id, e.user_id, e.shard FROM expired e;
            END
            $fn$;
            """;

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "expired_at",
                table: "orders",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "paid_at",
                table: "orders",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "payment_deadline",
                table: "orders",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "payment_reference",
                table: "orders",
                type: "character varying(128)",
                maxLength: 128,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "status",
                table: "orders",
                type: "character varying(32)",
                maxLength: 32,
                nullable: false,
                defaultValue: "awaiting-payment");

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "unit_returned_at",
                table: "orders",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "payment_window_seconds",
                table: "campaigns",
                type: "integer",
                nullable: false,
                defaultValue: 600);

            migrationBuilder.CreateIndex(
                name: "ix_orders_awaiting_payment",
                table: "orders",
                column: "payment_deadline",
                filter: "status = 'awaiting-payment'");

            migrationBuilder.CreateIndex(
                name: "ix_orders_unit_owed",
                table: "orders",
                column: "expired_at",
                filter: "status = 'payment-expired' AND unit_returned_at IS NULL");

            migrationBuilder.AddCheckConstraint(
                name: "ck_orders_status",
                table: "orders",
                sql: "status IN ('awaiting-payment', 'paid', 'payment-expired')");

            migrationBuilder.AddCheckConstraint(
                name: "ck_campaigns_payment_window",
                table: "campaigns",
                sql: "payment_window_seconds BETWEEN 30 AND 86400");

            if (!WriteOrdersWithDeadline.Contains("make_interval(secs => pay_window)", StringComparison.Ordinal)
                || !WriteOrdersWithDeadline.Contains("pay_window integer;", StringComparison.Ordinal)
                || !WriteOrdersWithDeadline.Contains("created_at, payment_deadline)", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("write_orders no longer has the shape this migration edits.");
            }

            migrationBuilder.Sql(WriteOrdersWithDeadline);
            migrationBuilder.Sql(ExpireUnpaidOrders);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS expire_unpaid_orders(integer);");
            migrationBuilder.Sql(WriteOrdersFunction.Sql);

            migrationBuilder.DropIndex(
                name: "ix_orders_awaiting_payment",
                table: "orders");

            migrationBuilder.DropIndex(
                name: "ix_orders_unit_owed",
                table: "orders");

            migrationBuilder.DropCheckConstraint(
                name: "ck_orders_status",
                table: "orders");

            migrationBuilder.DropCheckConstraint(
                name: "ck_campaigns_payment_window",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "expired_at",
                table: "orders");

            migrationBuilder.DropColumn(
                name: "paid_at",
                table: "orders");

            migrationBuilder.DropColumn(
                name: "payment_deadline",
                table: "orders");

            migrationBuilder.DropColumn(
                name: "payment_reference",
                table: "orders");

            migrationBuilder.DropColumn(
                name: "status",
                table: "orders");

            migrationBuilder.DropColumn(
                name: "unit_returned_at",
                table: "orders");

            migrationBuilder.DropColumn(
                name: "payment_window_seconds",
                table: "campaigns");
        }
    }
}
