using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Seckill.Data.Migrations
{
    /// <summary>
    /// expire_unpaid_orders as the Payments migration created it failed on every call (42804: structure of
    /// query does not match function result type): RETURN QUERY needs the declared types exactly, and
    /// orders.user_id is varchar(64), not the declared text, so no order ever expired. The user id is cast.
    /// </summary>
    public partial class ExpireUnpaidOrdersText : Migration
    {
        private const string Returned = "SELECT e.reservation_id, e.campaign_id, e.user_id, e.shard FROM expired e;";

        internal static readonly string Fixed = Payments.ExpireUnpaidOrders.Replace(
            Returned, "SELECT e.reservation_id, e.campaign_id, e.user_id::text, e.shard FROM expired e;", StringComparison.Ordinal);

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            if (!Payments.ExpireUnpaidOrders.Contains(Returned, StringComparison.Ordinal))
            {
                throw new InvalidOperationException("expire_unpaid_orders no longer has the shape this migration edits.");
            }

            migrationBuilder.Sql(Fixed);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(Payments.ExpireUnpaidOrders);
        }
    }
}
