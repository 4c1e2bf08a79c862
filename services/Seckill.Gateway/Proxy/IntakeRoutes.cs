using Seckill.Gateway.Auth;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Seckill.Gateway.Proxy;

/// <summary>
/// What the gateway forwards, built from <see cref="GatewayOptions"/> rather than a configuration file: the
/// routes are part of the security model (which ones need a token), so an operator changes the intakes and
/// the timings, never which path is authenticated.
/// </summary>
public static class IntakeRoutes
{
    public const string ClusterId = "intakes";
    public const string BuyerHeader = "X-User-Id";
    internal const string AccessKey = "seckill.access";
    internal const string Buyer = "buyer";
    internal const string Purchase = "purchase";
    internal const string Passthrough = "passthrough";

    public static (IReadOnlyList<RouteConfig> Routes, IReadOnlyList<ClusterConfig> Clusters) Build(GatewayOptions options)
    {
        RouteConfig Route(string id, string path, string access, string? policy) => new()
        {
            RouteId = id,
            ClusterId = ClusterId,
            Match = new RouteMatch { Path = path },
            AuthorizationPolicy = policy,
            Metadata = new Dictionary<string, string> { [AccessKey] = access },
        };

        // No method restrictions: a wrong method on a buyer path still needs a token, then the intake
        // answers its own 405; on admin paths the intake's admin-key check answers first, as it does directly.
        var routes = new List<RouteConfig>
        {
            Route("purchases", "/api/campaigns/{id}/purchases", Purchase, BuyerAuthentication.Policy),
            Route("reservations", "/api/reservations/{**rest}", Buyer, BuyerAuthentication.Policy),
            Route("reservations-root", "/api/reservations", Buyer, BuyerAuthentication.Policy),
            Route("admin-api", "/api/{**rest}", Passthrough, null),
            Route("dashboard", "/dashboard/{**rest}", Passthrough, null),
            Route("dashboard-root", "/dashboard", Passthrough, null),
            Route("openapi", "/openapi/{**rest}", Passthrough, null),
        };

        var destinations = new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.Intakes.Count; i++)
        {
            destinations[$"intake-{i}"] = new DestinationConfig { Address = options.Intakes[i] };
        }

        var cluster = new ClusterConfig
        {
            ClusterId = ClusterId,
            LoadBalancingPolicy = options.Balancing,
            Destinations = destinations,
            HealthCheck = new HealthCheckConfig
            {
                // Unknown counts as available: a freshly started gateway serves before the first probe answers.
                AvailableDestinationsPolicy = HealthCheckConstants.AvailableDestinations.HealthyAndUnknown,
                Active = new ActiveHealthCheckConfig
                {
                    Enabled = true,
                    Interval = options.HealthInterval,
                    Timeout = options.HealthTimeout,
                    Policy = HealthCheckConstants.ActivePolicy.ConsecutiveFailures,
                    Path = "/health/ready",
                },
                Passive = new PassiveHealthCheckConfig
                {
                    Enabled = true,
                    Policy = ConnectFailurePolicy.Name,
                    ReactivationPeriod = options.ReactivationPeriod,
                },
            },
            // One failed probe is enough to take an intake out: a probe answers in milliseconds when the
            // intake is fine, and a dead intake must be out within seconds, not after a streak.
            Metadata = new Dictionary<string, string> { [ConsecutiveFailuresHealthPolicyOptions.ThresholdMetadataName] = "1" },
            HttpRequest = new Yarp.ReverseProxy.Forwarder.ForwarderRequestConfig
            {
                ActivityTimeout = options.IntakeTimeout,
                Version = System.Net.HttpVersion.Version11,
                VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            },
        };
        return (routes, [cluster]);
    }

    /// <summary>The route a request matched: buyer routes carry the token's identity, the rest pass through.</summary>
    internal static string? AccessOf(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>()?.Config.Metadata?.GetValueOrDefault(AccessKey);

    internal static bool IsPurchase(HttpContext context) => AccessOf(context) == Purchase;

    internal static bool IsBuyerRoute(HttpContext context) => AccessOf(context) is Purchase or Buyer;
}
