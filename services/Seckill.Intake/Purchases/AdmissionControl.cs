using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Seckill.Intake.Http;
using Seckill.Observability;

namespace Seckill.Intake.Purchases;

/// <summary>
/// Per-process admission control: at most <see cref="IntakeOptions.MaxConcurrentPurchases"/> purchases
/// in flight and a bounded queue behind them. Past that a buyer gets 429 with Retry-After at once,
/// instead of the process piling up work it cannot finish in time.
/// </summary>
public static class AdmissionControl
{
    public static void Configure(RateLimiterOptions limiter)
    {
        limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        limiter.AddPolicy(PurchaseEndpoints.RateLimitPolicy, context =>
        {
            var options = context.RequestServices.GetRequiredService<IOptions<IntakeOptions>>().Value;
            return RateLimitPartition.GetConcurrencyLimiter("all", _ => new ConcurrencyLimiterOptions
            {
                PermitLimit = options.MaxConcurrentPurchases,
                QueueLimit = options.PurchaseQueueLimit,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            });
        });
        limiter.OnRejected = async (context, cancellationToken) =>
        {
            context.HttpContext.RequestServices.GetRequiredService<SeckillMetrics>().Purchase(PurchaseOutcomes.Throttled);
            context.HttpContext.Response.Headers.RetryAfter = "1";
            await Problems.Of(StatusCodes.Status429TooManyRequests, "throttled", "Too many purchases in flight",
                    "This intake is at capacity; try again after Retry-After seconds.")
                .ExecuteAsync(context.HttpContext);
        };
    }
}
