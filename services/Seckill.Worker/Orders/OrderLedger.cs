using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using Seckill.Contracts;
using Seckill.Data;

namespace Seckill.Worker.Orders;

/// <summary>The fate of one accepted reservation in PostgreSQL: its order id, or why it has none.</summary>
public sealed record LedgerResult(SeckillAccepted Accepted, Guid? OrderId, string? Refusal);

/// <summary>
/// Writes a batch of orders and deducts the real inventory (the patent's S5 deduction) in ONE
/// transaction: the campaign's hot row is locked and updated once per batch, never once per order.
/// </summary>
public sealed class OrderLedger(IDbContextFactory<SeckillDbContext> databases, TimeProvider clock)
{
    public async Task<IReadOnlyList<LedgerResult>> WriteAsync(IReadOnlyList<SeckillAccepted> batch, CancellationToken cancellationToken)
    {
        try
        {
            return await WriteInOneTransactionAsync(batch, cancellationToken);
        }
        catch (PostgresException e) when (!e.IsTransient && batch.Count > 1)
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

    private async Task<IReadOnlyList<LedgerResult>> WriteAloneAsync(SeckillAccepted accepted, CancellationToken cancellationToken)
    {
        try
        {
            return await WriteInOneTransactionAsync([accepted], cancellationToken);
        }
        catch (PostgresException e) when (!e.IsTransient)
        {
            return [new LedgerResult(accepted, null, StockReturnReasons.WriteFailed)];
        }
    }

    private async Task<IReadOnlyList<LedgerResult>> WriteInOneTransactionAsync(IReadOnlyList<SeckillAccepted> batch, CancellationToken cancellationToken)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var results = new List<LedgerResult>(batch.Count);
        // Campaign rows are always locked in id order, so two batches never wait on each other in a cycle.
        foreach (var campaign in batch.GroupBy(a => a.CampaignId).OrderBy(g => g.Key))
        {
            results.AddRange(await WriteCampaignAsync(connection, transaction, campaign.Key, [.. campaign], cancellationToken));
        }

        await transaction.CommitAsync(cancellationToken);
        return results;
    }

    private async Task<List<LedgerResult>> WriteCampaignAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid campaignId, List<SeckillAccepted> orders, CancellationToken cancellationToken)
    {
        var results = new List<LedgerResult>(orders.Count);
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                Command("SELECT total_stock - sold FROM campaigns WHERE id = $1 FOR UPDATE", campaignId),
                Command("SELECT reservation_id, id FROM orders WHERE reservation_id = ANY($1)", orders.Select(o => o.ReservationId).ToArray()),
            },
        };
        int? capacity = null;
        var existing = new Dictionary<Guid, Guid>();
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                capacity = reader.GetInt32(0);
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                existing[reader.GetGuid(0)] = reader.GetGuid(1);
            }
        }

        if (capacity is null)
        {
            return [.. orders.Select(o => new LedgerResult(o, null, StockReturnReasons.WriteFailed))];
        }

        // A redelivered reservation whose order is already written: the same order id again, nothing new.
        results.AddRange(orders.Where(o => existing.ContainsKey(o.ReservationId)).Select(o => new LedgerResult(o, existing[o.ReservationId], null)));
        var waiting = new Queue<SeckillAccepted>(orders.Where(o => !existing.ContainsKey(o.ReservationId)));
        var left = capacity.Value;
        var inserted = 0;
        while (left > 0 && waiting.Count > 0)
        {
            var chunk = new List<SeckillAccepted>();
            while (chunk.Count < left && waiting.Count > 0)
            {
                chunk.Add(waiting.Dequeue());
            }

            var written = await InsertAsync(connection, transaction, chunk, cancellationToken);
            foreach (var order in chunk)
            {
                results.Add(written.TryGetValue(order.ReservationId, out var orderId)
                    ? new LedgerResult(order, orderId, null)
                    : new LedgerResult(order, null, StockReturnReasons.DuplicateBuyer));
            }

            inserted += written.Count;
            left -= written.Count;
        }

        // The real-inventory guard: sold + n <= total_stock. What is left over never existed as stock.
        results.AddRange(waiting.Select(o => new LedgerResult(o, null, StockReturnReasons.SoldOutInDatabase)));
        if (inserted > 0)
        {
            await using var deduct = new NpgsqlCommand("UPDATE campaigns SET sold = sold + $2 WHERE id = $1", connection, transaction)
            {
                Parameters = { new NpgsqlParameter { Value = campaignId }, new NpgsqlParameter { Value = inserted } },
            };
            await deduct.ExecuteNonQueryAsync(cancellationToken);
        }

        return results;
    }

    /// <summary>One set-based insert; a conflict on the reservation or on (campaign, buyer) simply writes nothing for that row.</summary>
    private async Task<Dictionary<Guid, Guid>> InsertAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, List<SeckillAccepted> orders, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO orders (id, reservation_id, campaign_id, user_id, shard, created_at)
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::int[], $6::timestamptz[])
            ON CONFLICT DO NOTHING
            RETURNING reservation_id, id
            """,
            connection,
            transaction)
        {
            Parameters =
            {
                new NpgsqlParameter { Value = orders.Select(_ => Guid.CreateVersion7()).ToArray() },
                new NpgsqlParameter { Value = orders.Select(o => o.ReservationId).ToArray() },
                new NpgsqlParameter { Value = orders.Select(o => o.CampaignId).ToArray() },
                new NpgsqlParameter { Value = orders.Select(o => o.UserId).ToArray() },
                new NpgsqlParameter { Value = orders.Select(o => o.Shard).ToArray() },
                new NpgsqlParameter { Value = orders.Select(_ => now).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz },
            },
        };
        var written = new Dictionary<Guid, Guid>(orders.Count);
        await using var reader = await insert.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            written[reader.GetGuid(0)] = reader.GetGuid(1);
        }

        return written;
    }

    private static NpgsqlBatchCommand Command(string sql, object value) => new(sql) { Parameters = { new NpgsqlParameter { Value = value } } };
}
