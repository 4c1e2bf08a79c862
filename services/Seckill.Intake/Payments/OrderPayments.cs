using Microsoft.EntityFrameworkCore;
using Npgsql;
using Seckill.Data;

namespace Seckill.Intake.Payments;

/// <summary>An order as a payment sees it.</summary>
public sealed record PayableOrder(Guid OrderId, string UserId, string Status, DateTimeOffset? PaymentDeadline, DateTimeOffset? PaidAt, string? PaymentReference);

/// <summary>
/// Paying an order in PostgreSQL. The deadline is compared with PostgreSQL's clock, the one expiry uses,
/// and both move the order with one conditional UPDATE of its row: whichever reaches the row first wins,
/// the other finds it moved — never both, never neither.
/// </summary>
public sealed class OrderPayments(IDbContextFactory<SeckillDbContext> databases)
{
    /// <summary>True when this call paid the order; false when it was not awaiting payment before its deadline.</summary>
    public async Task<bool> TryPayAsync(Guid reservationId, string userId, string reference, CancellationToken cancellationToken)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            UPDATE orders SET status = 'paid', paid_at = now(), payment_reference = $3
            WHERE reservation_id = $1 AND user_id = $2 AND status = 'awaiting-payment'
              AND (payment_deadline IS NULL OR payment_deadline > now())
            """, connection)
        {
            Parameters =
            {
                new NpgsqlParameter { Value = reservationId },
                new NpgsqlParameter { Value = userId },
                new NpgsqlParameter { Value = reference },
            },
        };
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<PayableOrder?> FindAsync(Guid reservationId, CancellationToken cancellationToken)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        return await db.Orders.AsNoTracking()
            .Where(o => o.ReservationId == reservationId)
            .Select(o => new PayableOrder(o.Id, o.UserId, o.Status, o.PaymentDeadline, o.PaidAt, o.PaymentReference))
            .FirstOrDefaultAsync(cancellationToken);
    }
}
