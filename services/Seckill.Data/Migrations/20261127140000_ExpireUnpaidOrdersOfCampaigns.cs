using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Seckill.Data.Migrations
{
    /// <summary>
    /// expire_unpaid_orders(batch, only_campaigns): the same expiry narrowed to some campaigns (NULL: all of
    /// them), so a worker can be confined to a set of campaigns the way its sweeper is. The one-argument
    /// function stays, delegating: workers built before this migration still call it while a deployment
    /// rolls, and a second copy of the body would drift.
    /// </summary>
    public partial class ExpireUnpaidOrdersOfCampaigns : Migration
    {
        private const string Signature = "CREATE OR REPLACE FUNCTION expire_unpaid_orders(batch integer)";
        private const string DueSelection = "WHERE o.status = 'awaiting-payment' AND o.payment_deadline <= now()\n";

        private static readonly string OfCampaigns = ExpireUnpaidOrdersText.Fixed
            .Replace(Signature, "CREATE OR REPLACE FUNCTION expire_unpaid_orders(batch integer, only_campaigns uuid[])", StringComparison.Ordinal)
            .Replace(DueSelection,
                "WHERE o.status = 'awaiting-payment' AND o.payment_deadline <= now()\n"
                + "          AND (only_campaigns IS NULL OR o.campaign_id = ANY(only_campaigns))\n",
                StringComparison.Ordinal);

        private const string Delegating =
            """
            CREATE OR REPLACE FUNCTION expire_unpaid_orders(batch integer)
            RETURNS TABLE (reservation_id uuid, campaign_id uuid, user_id text, shard integer)
            LANGUAGE sql
            AS $fn$ SELECT * FROM expire_unpaid_orders(batch, NULL::uuid[]) $fn$;
            """;

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            if (!ExpireUnpaidOrdersText.Fixed.Contains(Signature, StringComparison.Ordinal)
                || ExpireUnpaidOrdersText.Fixed.Split(DueSelection).Length != 2)
            {
                throw new InvalidOperationException("expire_unpaid_orders no longer has the shape this migration edits.");
            }

            migrationBuilder.Sql(OfCampaigns);
            migrationBuilder.Sql(Delegating);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(ExpireUnpaidOrdersText.Fixed);
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS expire_unpaid_orders(integer, uuid[]);");
        }
    }
}
