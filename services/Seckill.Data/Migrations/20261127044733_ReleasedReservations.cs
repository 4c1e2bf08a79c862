using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Seckill.Data.Migrations
{
    /// <inheritdoc />
    public partial class ReleasedReservations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "released_reservations",
                columns: table => new
                {
                    reservation_id = table.Column<Guid>(type: "uuid", nullable: false),
                    campaign_id = table.Column<Guid>(type: "uuid", nullable: false),
                    reason = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    released_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_released_reservations", x => x.reservation_id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_released_reservations_campaign_id",
                table: "released_reservations",
                column: "campaign_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "released_reservations");
        }
    }
}
