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
/// transaction: the campaign's hot row is locked and updated once per batch, never once per order.
/// Every reservation it refuses is recorded in <c>released_reservations</c> under the same lock, so
/// PostgreSQL holds one verdict per reservation and a redelivered message gets the same one again.
/// </summary>
public sealed class OrderLedger(IDbContextFactory<SeckillDbContext> databases, TimeProvider clock)
{
    public async Task<IReadOnlyList<LedgerResult>> WriteAsync(IReadOnlyList<SeckillAccepted> batch, CancellationToken cancellationToken)
    {
        try
        {
            return await WriteInOneTransactionAsync(batch, cancellationToken);
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
            await RecordRefusalsAsync(connection, transaction, [new LedgerResult(accepted, null, reason)], cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return new LedgerResult(accepted, orderId, orderId is null ? recorded ?? reason : null);
    }

    private async Task<IReadOnlyList<LedgerResult>> WriteAloneAsync(SeckillAccepted accepted, CancellationToken cancellationToken)
    {
        try
        {
            return await WriteInOneTransactionAsync([accepted], cancellationToken);
        }
        catch (PostgresException e) when (StoreFailures.Classify(e) == StoreFailure.RowRefused)
        {
            return [await ReleaseAsync(accepted, StockReturnReasons.WriteFailed, cancellationToken)];
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
                Command("SELECT reservation_id, reason FROM released_reservations WHERE reservation_id = ANY($1)", orders.Select(o => o.ReservationId).ToArray()),
            },
        };
        int? capacity = null;
        var existing = new Dictionary<Guid, Guid>();
        var released = new Dictionary<Guid, string>();
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

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                released[reader.GetGuid(0)] = reader.GetString(1);
            }
        }

        // A redelivered reservation already decided: the same order id, or the same refusal, again.
        results.AddRange(orders.Where(o => existing.ContainsKey(o.ReservationId)).Select(o => new LedgerResult(o, existing[o.ReservationId], null)));
        results.AddRange(orders.Where(o => released.ContainsKey(o.ReservationId)).Select(o => new LedgerResult(o, null, released[o.ReservationId])));
        var undecided = orders.Where(o => !existing.ContainsKey(o.ReservationId) && !released.ContainsKey(o.ReservationId)).ToList();
        if (capacity is null)
        {
            var refused = undecided.Select(o => new LedgerResult(o, null, StockReturnReasons.WriteFailed)).ToList();
            await RecordRefusalsAsync(connection, transaction, refused, cancellationToken);
            results.AddRange(refused);
            return results;
        }

        var waiting = new Queue<SeckillAccepted>(undecided);
        var refusals = new List<LedgerResult>();
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
                if (written.TryGetValue(order.ReservationId, out var orderId))
                {
                    results.Add(new LedgerResult(order, orderId, null));
                }
                else
                {
                    refusals.Add(new LedgerResult(order, null, StockReturnReasons.DuplicateBuyer));
                }
            }

            inserted += written.Count;
            left -= written.Count;
        }

        // The real-inventory guard: sold + n <= total_stock. What is left over never existed as stock.
        refusals.AddRange(waiting.Select(o => new LedgerResult(o, null, StockReturnReasons.SoldOutInDatabase)));
        await RecordRefusalsAsync(connection, transaction, refusals, cancellationToken);
        results.AddRange(refusals);
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

    private async Task RecordRefusalsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, List<LedgerResult> refusals, CancellationToken cancellationToken)
    {
        if (refusals.Count == 0)
        {
            return;
        }

        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO released_reservations (reservation_id, campaign_id, reason, released_at)
            SELECT r, c, why, $4 FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS t(r, c, why)
            ON CONFLICT DO NOTHING
            """,
            connection,
            transaction)
        {
            Parameters =
            {
                new NpgsqlParameter { Value = refusals.Select(r => r.Accepted.ReservationId).ToArray() },
                new NpgsqlParameter { Value = refusals.Select(r => r.Accepted.CampaignId).ToArray() },
                new NpgsqlParameter { Value = refusals.Select(r => r.Refusal!).ToArray() },
                new NpgsqlParameter { Value = clock.GetUtcNow().UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz },
            },
        };
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private static NpgsqlBatchCommand Command(string sql, object value) => new(sql) { Parameters = { new NpgsqlParameter { Value = value } } };
}
