using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Seckill.Gateway.Proxy;

/// <summary>
/// Passive health: an intake that refused a connection is taken out at once, for the cluster's reactivation
/// period; then the active probe decides. YARP's own failure-rate policy averages over a minute, so an intake
/// that served thousands of purchases before it died would stay in for hundreds of failures.
/// </summary>
internal sealed class ConnectFailurePolicy(IDestinationHealthUpdater health) : IPassiveHealthCheckPolicy
{
    public const string Name = "ConnectFailure";
    private static readonly TimeSpan DefaultReactivation = TimeSpan.FromSeconds(5);

    string IPassiveHealthCheckPolicy.Name => Name;

    public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
    {
        if (ProxyFailures.NeverReachedTheIntake(context.GetForwarderErrorFeature()))
        {
            health.SetPassive(cluster, destination, DestinationHealth.Unhealthy,
                cluster.Model.Config.HealthCheck?.Passive?.ReactivationPeriod ?? DefaultReactivation);
        }
    }
}
