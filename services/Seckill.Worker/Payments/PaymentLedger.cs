using Microsoft.EntityFrameworkCore;
using Npgsql;
using Seckill.Data;

namespace Seckill.Worker.Payments;

/// <summary>An order that expired unpaid, as the compensation path needs it to return the unit.</summary>
public sealed record ExpiredOrder(Guid ReservationId, Guid CampaignId, string UserId, int Shard);

/// <summary>The payment deadline's side in PostgreSQL: expiring due orders and tracking their units' return.</summary>
public sealed class PaymentLedger(IDbContextFactory<SeckillDbContext> databases, ExpiringCampaigns scope, TimeProvider clock)
{
    /// <summary>
    /// Moves up to <paramref name="batch"/> orders (of the <see cref="ExpiringCampaigns"/>) past their deadline to payment-expired and releases
    /// their real inventory, in one transaction (the function <c>expire_unpaid_orders</c>): any number
    /// of workers may call it at once, each order moves exactly once, and a payment that got its row
    /// first wins.
    /// </summary>
    public async Task<IReadOnlyList<ExpiredOrder>> ExpireDueAsync(int batch, CancellationToken cancellationToken)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT reservation_id, campaign_id, user_id, shard FROM expire_unpaid_orders($1, $2)", connection)
        {
            Parameters =
            {
                new NpgsqlParameter { Value = batch },
                new NpgsqlParameter { Value = (object?)scope.Only ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Uuid },
            },
        };
        var expired = new List<ExpiredOrder>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            expired.Add(new ExpiredOrder(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetInt32(3)));
        }

        return expired;
    }

    /// <summary>Expired orders whose unit has not been confirmed back since <paramref name="expiredBefore"/>.</summary>
    public async Task<IReadOnlyList<ExpiredOrder>> ListUnitsOwedAsync(DateTimeOffset expiredBefore, int limit, CancellationToken cancellationToken)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var orders = db.Orders.AsNoTracking();
        if (scope.Only is { } only)
        {
            orders = orders.Where(o => only.Contains(o.CampaignId));
        }

        return await orders
            .Where(o => o.Status == OrderStatus.PaymentExpired && o.UnitReturnedAt == null && o.ExpiredAt < expiredBefore)
            .OrderBy(o => o.ExpiredAt)
            .Take(limit)
            .Select(o => new ExpiredOrder(o.ReservationId, o.CampaignId, o.UserId, o.Shard))
            .ToListAsync(cancellationToken);
    }

    public async Task MarkUnitReturnedAsync(Guid reservationId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        await db.Orders
            .Where(o => o.ReservationId == reservationId && o.Status == OrderStatus.PaymentExpired && o.UnitReturnedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(o => o.UnitReturnedAt, now), cancellationToken);
    }
}
