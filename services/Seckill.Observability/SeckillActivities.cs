using System.Diagnostics;

namespace Seckill.Observability;

/// <summary>
/// Spans of the project's own, where the work leaves the request's async flow: a group-commit
/// publish made on a publisher loop for many requests, and a worker's batch of orders.
/// </summary>
public static class SeckillActivities
{
    public const string SourceName = "Seckill";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// A span continuing <paramref name="parents"/>[0]'s trace and linking the others (null when nobody
    /// listens): one message or one transaction carries many purchases, each trace finds it by its link.
    /// </summary>
    public static Activity? StartFor(string name, ActivityKind kind, IReadOnlyList<ActivityContext> parents)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var parent = parents.Count > 0 ? parents[0] : default;
        var links = parents.Count > 1 ? parents.Skip(1).Where(p => p != default).Select(p => new ActivityLink(p)) : null;
        return Source.StartActivity(name, kind, parent, links: links);
    }
}
