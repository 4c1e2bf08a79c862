using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Seckill.Gateway.Auth;
using Seckill.Gateway.Http;
using Seckill.Gateway.Proxy;

namespace Seckill.Gateway.Limits;

/// <summary>
/// Limits at the edge, before anything reaches an intake: a token bucket per buyer (<c>sub</c>) on purchases
/// (<see cref="BuyerBuckets"/>, checked after authorization by <see cref="LimitPurchasesAsync"/>), and a fixed
/// window per client address for everything else that is not a buyer route with a valid token (ASP.NET
/// Core's limiter: a handful of partitions, one per address). Authenticated requests on other buyer routes
/// are not limited here; the intake's admission control still guards it as a whole.
/// </summary>
public static class EdgeLimits
{
    public static IServiceCollection AddEdgeLimits(this IServiceCollection services)
    {
        services.AddRateLimiter(_ => { });
        services.AddSingleton(sp =>
        {
            var gateway = sp.GetRequiredService<IOptions<GatewayOptions>>().Value;
            return new BuyerBuckets(gateway.PurchasesPerSecond, gateway.PurchaseBurst, TimeProvider.System);
        });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<GatewayOptions>>((limiter, gateway) =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = Create(gateway.Value);
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                await GatewayProblems.WriteAsync(context.HttpContext, StatusCodes.Status429TooManyRequests, GatewayProblems.RateLimited,
                    "Too many requests", "Too many requests from this buyer or address; try again after Retry-After seconds.", retryAfter);
            };
        });
        return services;
    }

    internal static PartitionedRateLimiter<HttpContext> Create(GatewayOptions options) =>
        PartitionedRateLimiter.Create<HttpContext, string>(context =>
        {
            var subject = context.User.Identity?.IsAuthenticated == true ? context.User.FindFirst(BuyerAuthentication.SubjectClaim)?.Value : null;
            // A buyer's token exempts only buyer routes from the address window: with it, admin routes
            // would otherwise be open to unlimited guessing of the admin key.
            if (subject is not null && IntakeRoutes.IsBuyerRoute(context))
            {
                return RateLimitPartition.GetNoLimiter("buyer");
            }

            if (context.Request.Path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase))
            {
                return RateLimitPartition.GetNoLimiter("health");
            }

            var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            return RateLimitPartition.GetFixedWindowLimiter("address:" + address, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = options.AnonymousPerSecond,
                Window = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = false,
            });
        });

    /// <summary>
    /// The per-buyer purchase bucket, after authorization: only a request with a valid token reaches it, so
    /// a bucket always belongs to a real buyer and forged tokens cannot fill the map.
    /// </summary>
    public static Task LimitPurchasesAsync(HttpContext context, RequestDelegate next)
    {
        if (!IntakeRoutes.IsPurchase(context)
            || context.User.FindFirst(BuyerAuthentication.SubjectClaim)?.Value is not { } buyer
            || context.RequestServices.GetRequiredService<BuyerBuckets>().TryTake(buyer, out var retryAfter))
        {
            return next(context);
        }

        return GatewayProblems.WriteAsync(context, StatusCodes.Status429TooManyRequests, GatewayProblems.RateLimited,
            "Too many requests", "Too many purchases from this buyer; try again after Retry-After seconds.", retryAfter);
    }
}
