using System.Diagnostics;
using MassTransit;
using Seckill.Contracts;
using Seckill.Inventory;
using Seckill.Messaging;
using Seckill.Worker.Stores;
using Seckill.Observability;

namespace Seckill.Worker.Orders;

/// <summary>
/// Patent step S5 for a list of accepted purchases, in transactions of at most
/// <see cref="WorkerOptions.BatchSize"/> orders paced by the rate limit: claim the tokens in Redis
/// (one script call per shard), write the orders and deduct the real inventory in one PostgreSQL
/// transaction, confirm the tokens, and send every reservation that got no order to compensation.
/// Each step is idempotent, so a redelivered message, or a batch retried after an outage, ends
/// exactly as if it had run once.
/// </summary>
public sealed partial class OrderPipeline(
    ShardReservations reservations,
    OrderLedger ledger,
    OrderRateLimiter rate,
    StoreOutage outage,
    SeckillMetrics metrics,
    Microsoft.Extensions.Options.IOptions<WorkerOptions> options,
    ILogger<OrderPipeline> logger)
{
    private static readonly TimeSpan[] AloneRetries = [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500)];

    public async Task WriteAsync(IEnumerable<SeckillAccepted> purchases, ConsumeContext context, CancellationToken cancellationToken)
    {
        // A purchase published twice (a replayed key, the sweeper) is written once.
        var distinct = purchases.DistinctBy(p => p.ReservationId).ToList();
        foreach (var chunk in distinct.Chunk(Math.Min(options.Value.BatchSize, rate.OrdersPerGrant)))
        {
            await rate.AcquireAsync(chunk.Length, cancellationToken);
            List<StockReturnRequested> returns;
            try
            {
                returns = await outage.RunAsync(_ => WriteAsync([.. chunk]), cancellationToken);
            }
            catch (Exception e) when (StoreFailures.Classify(e) == StoreFailure.Poison && !cancellationToken.IsCancellationRequested)
            {
                LogIsolating(logger, e, chunk.Length);
                returns = await WriteOneByOneAsync(chunk, context, cancellationToken);
            }

            foreach (var refused in returns)
            {
                await context.Publish(refused, cancellationToken);
            }
        }
    }

    /// <summary>
    /// A defect met by a batch must not fail its healthy neighbours (a group-commit message carries
    /// hundreds): each purchase is tried alone, and one that still fails is moved to
    /// <c>seckill-orders_error</c> by itself, where the dead-letter releaser ends its reservation and
    /// the operator sees it.
    /// </summary>
    private async Task<List<StockReturnRequested>> WriteOneByOneAsync(SeckillAccepted[] chunk, ConsumeContext context, CancellationToken cancellationToken)
    {
        var returns = new List<StockReturnRequested>();
        foreach (var purchase in chunk)
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    returns.AddRange(await outage.RunAsync(_ => WriteAsync([purchase]), cancellationToken));
                    break;
                }
                catch (Exception e) when (StoreFailures.Classify(e) == StoreFailure.Poison && !cancellationToken.IsCancellationRequested)
                {
                    if (attempt < AloneRetries.Length)
                    {
                        await Task.Delay(AloneRetries[attempt], cancellationToken);
                        continue;
                    }

                    LogDeadLettered(logger, e, purchase.ReservationId);
                    var errors = await context.GetSendEndpoint(new Uri($"exchange:{SeckillTopology.ErrorQueueOf(SeckillTopology.OrdersQueue)}"));
                    await errors.Send(purchase, send => send.Headers.Set("MT-Fault-Message", e.Message), cancellationToken);
                    break;
                }
            }
        }

        return returns;
    }

    private async Task<List<StockReturnRequested>> WriteAsync(List<SeckillAccepted> batch)
    {
        var claims = await reservations.ClaimAsync([.. batch.Select(a => new ClaimRequest(a.CampaignId, a.Shard, a.ReservationId, a.UserId, a.AcceptedAt))]);
        var toWrite = new List<SeckillAccepted>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            switch (claims[i].Verdict)
            {
                case ClaimVerdict.Claimed:
                    toWrite.Add(batch[i]);
                    break;
                case ClaimVerdict.Confirmed:
                    break;
                default:
                    // Failed by an undo (the buyer got 503) or by compensation, or aged out long after it
                    // ended: its unit is already back, so no order.
                    LogNotWritten(logger, batch[i].ReservationId, claims[i].Verdict);
                    break;
            }
        }

        var returns = new List<StockReturnRequested>();
        if (toWrite.Count == 0)
        {
            return returns;
        }

        var started = Stopwatch.GetTimestamp();
        var results = await ledger.WriteAsync(toWrite, CancellationToken.None);
        metrics.OrdersWritten(results.Count(r => r.OrderId is not null), Stopwatch.GetElapsedTime(started));
        var confirmations = new List<Confirmation>(results.Count);
        foreach (var result in results)
        {
            var accepted = result.Accepted;
            if (result.OrderId is { } orderId)
            {
                confirmations.Add(new Confirmation(accepted.CampaignId, accepted.Shard, accepted.ReservationId, orderId));
            }
            else
            {
                returns.Add(new StockReturnRequested(accepted.ReservationId, accepted.CampaignId, accepted.UserId, accepted.Shard, result.Refusal!));
            }
        }

        await reservations.ConfirmAsync(confirmations);
        return returns;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Count} purchase(s) failed with a defect; writing them one by one")]
    private static partial void LogIsolating(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reservation {ReservationId} cannot be written; moved to seckill-orders_error")]
    private static partial void LogDeadLettered(ILogger logger, Exception exception, Guid reservationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reservation {ReservationId} is {Verdict}; no order is written for it")]
    private static partial void LogNotWritten(ILogger logger, Guid reservationId, ClaimVerdict verdict);
}
