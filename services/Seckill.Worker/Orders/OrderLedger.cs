using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using Seckill.Contracts;
using Seckill.Data;
using Seckill.Worker.Stores;

namespace Seckill.Worker.Orders;

/// <summary>The fate of one accepted reservation in PostgreSQL: its order id, or why it has none.</summary>
public sealed record LedgerResult(SeckillAccepted Accepted, Guid? OrderId, string? Refusal);

/// <summary>
/// Writes a batch of orders and deducts the real inventory (the patent's S5 deduction) in ONE
/// transaction and ONE round trip: the function <c>write_orders</c> locks and updates each campaign's
/// hot row once per batch, never once per order, and PostgreSQL is not waiting on the network while
/// that lock is held. Every reservation it refuses is recorded in <c>released_reservations</c> under
/// the same lock, so PostgreSQL holds one verdict per reservation and a redelivered message gets the
/// same one again.
/// </summary>
public sealed class OrderLedger(IDbContextFactory<SeckillDbContext> databases, TimeProvider clock)
{
    public async Task<IReadOnlyList<LedgerResult>> WriteAsync(IReadOnlyList<SeckillAccepted> batch, CancellationToken cancellationToken)
    {
        try
        {
            return await WriteInOneRoundTripAsync(batch, cancellationToken);
        }
        catch (PostgresException e) when (StoreFailures.Classify(e) == StoreFailure.RowRefused)
        {
            // One row PostgreSQL refuses fails the whole statement; alone, each order gets its own verdict.
            var results = new List<LedgerResult>(batch.Count);
            foreach (var accepted in batch)
            {
                results.AddRange(await WriteAloneAsync(accepted, cancellationToken));
            }

            return results;
        }
    }

    /// <summary>
    /// The verdict for a reservation whose message was dead-lettered: the order already written for it,
    /// a refusal already recorded, or else a new refusal with <paramref name="reason"/> — decided under
    /// the campaign row's lock, so a worker writing a redelivered copy right now either committed its
    /// order first or will find this refusal and write nothing.
    /// </summary>
    public async Task<LedgerResult> ReleaseAsync(SeckillAccepted accepted, string reason, CancellationToken cancellationToken)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                Command("SELECT 1 FROM campaigns WHERE id = $1 FOR UPDATE", accepted.CampaignId),
                Command("SELECT id FROM orders WHERE reservation_id = $1", accepted.ReservationId),
                Command("SELECT reason FROM released_reservations WHERE reservation_id = $1", accepted.ReservationId),
            },
        };
        Guid? orderId = null;
        string? recorded = null;
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            await reader.NextResultAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                orderId = reader.GetGuid(0);
            }

            await reader.NextResultAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                recorded = reader.GetString(0);
            }
        }

        if (orderId is null && recorded is null)
        {
            await RecordRefusalAsync(connection, transaction, accepted, reason, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return new LedgerResult(accepted, orderId, orderId is null ? recorded ?? reason : null);
    }

    private async Task<IReadOnlyList<LedgerResult>> WriteAloneAsync(SeckillAccepted accepted, CancellationToken cancellationToken)
    {
        try
        {
            return await WriteInOneRoundTripAsync([accepted], cancellationToken);
        }
        catch (PostgresException e) when (StoreFailures.Classify(e) == StoreFailure.RowRefused)
        {
            return [await ReleaseAsync(accepted, StockReturnReasons.WriteFailed, cancellationToken)];
        }
    }

    private async Task<IReadOnlyList<LedgerResult>> WriteInOneRoundTripAsync(IReadOnlyList<SeckillAccepted> batch, CancellationToken cancellationToken)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await connection.OpenAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        // Campaign rows are always locked in id order, so two batches never wait on each other in a cycle.
        var campaigns = batch.GroupBy(a => a.CampaignId).OrderBy(g => g.Key).Select(g => g.ToList()).ToList();
        // No explicit transaction: the statements of one NpgsqlBatch end at a single Sync, so they run in
        // one implicit transaction (a row refused in any campaign rolls back every campaign's writes) and
        // no BEGIN or COMMIT costs a round trip of its own.
        await using var write = new NpgsqlBatch(connection);
        foreach (var orders in campaigns)
        {
            write.BatchCommands.Add(new NpgsqlBatchCommand("SELECT order_id, refusal FROM write_orders($1, $2, $3, $4, $5, $6)")
            {
                Parameters =
                {
                    new NpgsqlParameter { Value = orders[0].CampaignId },
                    new NpgsqlParameter { Value = orders.Select(_ => Guid.CreateVersion7()).ToArray() },
                    new NpgsqlParameter { Value = orders.Select(o => o.ReservationId).ToArray() },
                    new NpgsqlParameter { Value = orders.Select(o => o.UserId).ToArray() },
                    new NpgsqlParameter { Value = orders.Select(o => o.Shard).ToArray() },
                    new NpgsqlParameter { Value = now, NpgsqlDbType = NpgsqlDbType.TimestampTz },
                },
            });
        }

        var results = new List<LedgerResult>(batch.Count);
        await using var reader = await write.ExecuteReaderAsync(cancellationToken);
        foreach (var orders in campaigns)
        {
            // One row per reservation, in the order they were passed.
            for (var i = 0; await reader.ReadAsync(cancellationToken); i++)
            {
                results.Add(new LedgerResult(orders[i], reader.IsDBNull(0) ? null : reader.GetGuid(0), reader.IsDBNull(1) ? null : reader.GetString(1)));
            }

            await reader.NextResultAsync(cancellationToken);
        }

        return results;
    }

    private async Task RecordRefusalAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, SeckillAccepted accepted, string reason, CancellationToken cancellationToken)
    {
        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO released_reservations (reservation_id, campaign_id, reason, released_at)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT DO NOTHING
            """,
            connection,
            transaction)
        {
            Parameters =
            {
                new NpgsqlParameter { Value = accepted.ReservationId },
                new NpgsqlParameter { Value = accepted.CampaignId },
                new NpgsqlParameter { Value = reason },
                new NpgsqlParameter { Value = clock.GetUtcNow().UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz },
            },
        };
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private static NpgsqlBatchCommand Command(string sql, object value) => new(sql) { Parameters = { new NpgsqlParameter { Value = value } } };
}
