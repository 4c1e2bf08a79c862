using MassTransit;
using Microsoft.Extensions.Options;
using Seckill.Contracts;
using Seckill.Worker.Stores;
using Seckill.Observability;

namespace Seckill.Worker.Payments;

/// <summary>
/// Cancels orders still unpaid at their deadline (the patent's S5 transaction request never came):
/// PostgreSQL moves them to payment-expired and releases their real inventory, then each unit goes back
/// to its shard through the compensation path (<see cref="StockReturnRequested"/>, reason
/// payment-expired), so the sold-out flags clear and another buyer can buy it. The order's
/// <c>unit_returned_at</c> is the outbox: a unit whose return was lost between the commit and the publish
/// is asked for again after <see cref="PaymentOptions.UnitReturnTimeout"/>, and the return is idempotent.
/// </summary>
public sealed partial class PaymentExpiry(
    PaymentLedger ledger,
    IBus bus,
    IOptions<PaymentOptions> options,
    TimeProvider clock,
    SeckillMetrics metrics,
    ILogger<PaymentExpiry> logger) : PeriodicJob(clock, logger)
{
    private const int MaxBatchesPerRound = 20;
    private readonly PaymentOptions _options = options.Value;

    protected override bool Enabled => _options.ExpiryEnabled;

    protected override TimeSpan Interval => _options.ExpiryInterval;

    protected override string Name => "payment expiry";

    protected override async Task RunRoundAsync(CancellationToken cancellationToken)
    {
        for (var batch = 0; batch < MaxBatchesPerRound; batch++)
        {
            var expired = await ledger.ExpireDueAsync(_options.ExpiryBatchSize, cancellationToken);
            await ReturnUnitsAsync(expired, cancellationToken);
            if (expired.Count > 0)
            {
                metrics.PaymentsExpired(expired.Count);
                LogExpired(logger, expired.Count);
            }

            if (expired.Count < _options.ExpiryBatchSize)
            {
                break;
            }
        }

        var owed = await ledger.ListUnitsOwedAsync(Clock.GetUtcNow() - _options.UnitReturnTimeout, _options.ExpiryBatchSize, cancellationToken);
        await ReturnUnitsAsync(owed, cancellationToken);
    }

    private Task ReturnUnitsAsync(IReadOnlyList<ExpiredOrder> orders, CancellationToken cancellationToken) =>
        Task.WhenAll(orders.Select(o => bus.Publish(
            new StockReturnRequested(o.ReservationId, o.CampaignId, o.UserId, o.Shard, StockReturnReasons.PaymentExpired), cancellationToken)));

    [LoggerMessage(Level = LogLevel.Information, Message = "Expired {Count} unpaid order(s); their units go back on sale")]
    private static partial void LogExpired(ILogger logger, int count);
}
