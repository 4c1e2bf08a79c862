using Microsoft.EntityFrameworkCore;

namespace Seckill.Data;

public sealed class SeckillDbContext(DbContextOptions<SeckillDbContext> options) : DbContext(options)
{
    public DbSet<Campaign> Campaigns => Set<Campaign>();

    public DbSet<Order> Orders => Set<Order>();

    public DbSet<ReleasedReservation> ReleasedReservations => Set<ReleasedReservation>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Campaign>(campaign =>
        {
            campaign.ToTable("campaigns", table =>
            {
                table.HasCheckConstraint("ck_campaigns_sold_within_stock", "sold >= 0 AND sold <= total_stock");
                table.HasCheckConstraint("ck_campaigns_window", "ends_at IS NULL OR ends_at > starts_at");
                table.HasCheckConstraint("ck_campaigns_payment_window", "payment_window_seconds BETWEEN 30 AND 86400");
            });
            campaign.HasKey(c => c.Id);
            campaign.Property(c => c.Id).HasColumnName("id").ValueGeneratedNever();
            campaign.Property(c => c.Number).HasColumnName("number").UseIdentityByDefaultColumn();
            campaign.HasIndex(c => c.Number).IsUnique();
            campaign.Property(c => c.Name).HasColumnName("name").HasMaxLength(200);
            campaign.Property(c => c.TotalStock).HasColumnName("total_stock");
            campaign.Property(c => c.Sold).HasColumnName("sold");
            campaign.Property(c => c.ShardCount).HasColumnName("shard_count");
            campaign.Property(c => c.StartsAt).HasColumnName("starts_at");
            campaign.Property(c => c.EndsAt).HasColumnName("ends_at");
            campaign.Property(c => c.CreatedAt).HasColumnName("created_at");
            campaign.Property(c => c.InventoryLoadedAt).HasColumnName("inventory_loaded_at");
            campaign.Property(c => c.CreationKey).HasColumnName("creation_key").HasMaxLength(128);
            campaign.Property(c => c.EndedAt).HasColumnName("ended_at");
            campaign.Property(c => c.PaymentWindowSeconds).HasColumnName("payment_window_seconds").HasDefaultValue(600);
            campaign.Property(c => c.SettledAt).HasColumnName("settled_at");
            campaign.Property(c => c.ArchivedAt).HasColumnName("archived_at");
            campaign.Property(c => c.HousekeepingLeaseUntil).HasColumnName("housekeeping_lease_until");
            campaign.Property(c => c.FailedReservations).HasColumnName("failed_reservations");
            campaign.Ignore(c => c.ClosesAt);
            // The sweeper's and housekeeping's scans: only campaigns not settled yet, or settled and not archived.
            campaign.HasIndex(c => c.SettledAt).HasFilter("archived_at IS NULL");
            campaign.HasIndex(c => c.CreationKey).IsUnique();
        });

        modelBuilder.Entity<Order>(order =>
        {
            order.ToTable("orders", table => table.HasCheckConstraint(
                "ck_orders_status", "status IN ('awaiting-payment', 'paid', 'payment-expired')"));
            order.HasKey(o => o.Id);
            order.Property(o => o.Id).HasColumnName("id").ValueGeneratedNever();
            order.Property(o => o.ReservationId).HasColumnName("reservation_id");
            order.Property(o => o.CampaignId).HasColumnName("campaign_id");
            order.Property(o => o.UserId).HasColumnName("user_id").HasMaxLength(64);
            order.Property(o => o.Shard).HasColumnName("shard");
            order.Property(o => o.CreatedAt).HasColumnName("created_at");
            order.Property(o => o.Status).HasColumnName("status").HasMaxLength(32).HasDefaultValue(OrderStatus.AwaitingPayment);
            order.Property(o => o.PaymentDeadline).HasColumnName("payment_deadline");
            order.Property(o => o.PaidAt).HasColumnName("paid_at");
            order.Property(o => o.PaymentReference).HasColumnName("payment_reference").HasMaxLength(128);
            order.Property(o => o.ExpiredAt).HasColumnName("expired_at");
            order.Property(o => o.UnitReturnedAt).HasColumnName("unit_returned_at");
            // Expiry's scan: only the orders still awaiting payment, by deadline.
            order.HasIndex(o => o.PaymentDeadline).HasFilter("status = 'awaiting-payment'").HasDatabaseName("ix_orders_awaiting_payment");
            // Expired orders whose unit has not been confirmed back yet: the few expiry asks for again.
            order.HasIndex(o => o.ExpiredAt).HasFilter("status = 'payment-expired' AND unit_returned_at IS NULL").HasDatabaseName("ix_orders_unit_owed");
            order.HasIndex(o => o.ReservationId).IsUnique();
            // I2, one order per buyer, enforced by the database even if every cache check were bypassed.
            order.HasIndex(o => new { o.CampaignId, o.UserId }).IsUnique();
            order.HasOne<Campaign>().WithMany().HasForeignKey(o => o.CampaignId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<ReleasedReservation>(released =>
        {
            released.ToTable("released_reservations");
            released.HasKey(r => r.ReservationId);
            released.Property(r => r.ReservationId).HasColumnName("reservation_id").ValueGeneratedNever();
            released.Property(r => r.CampaignId).HasColumnName("campaign_id");
            released.Property(r => r.Reason).HasColumnName("reason").HasMaxLength(64);
            released.Property(r => r.ReleasedAt).HasColumnName("released_at");
            released.HasIndex(r => r.CampaignId);
        });
    }
}
