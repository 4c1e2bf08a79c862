using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Seckill.Data.Migrations
{
    /// <inheritdoc />
    public partial class CampaignLifecycle : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "archived_at",
                table: "campaigns",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "ended_at",
                table: "campaigns",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "failed_reservations",
                table: "campaigns",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "housekeeping_lease_until",
                table: "campaigns",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "settled_at",
                table: "campaigns",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_campaigns_settled_at",
                table: "campaigns",
                column: "settled_at",
                filter: "archived_at IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_campaigns_settled_at",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "archived_at",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "ended_at",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "failed_reservations",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "housekeeping_lease_until",
                table: "campaigns");

            migrationBuilder.DropColumn(
                name: "settled_at",
                table: "campaigns");
        }
    }
}
