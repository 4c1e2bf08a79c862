using System.Net.Sockets;
using Npgsql;
using StackExchange.Redis;

namespace Seckill.Worker.Stores;

/// <summary>What a store's failure says about the work that met it.</summary>
public enum StoreFailure
{
    /// <summary>The store is away, slow or refusing everything for now: wait, fail nothing, pause consumption.</summary>
    Outage,

    /// <summary>PostgreSQL refused one row's data: that order fails, its unit goes back.</summary>
    RowRefused,

    /// <summary>Neither: a defect or a message no retry will fix. Retried briefly, then dead-lettered.</summary>
    Poison,
}

/// <summary>
/// The one place that decides what a failure means, for the order writer, compensation, the
/// dead-letter releaser and the sweeper alike. The rule: only an error about a row's own data blames
/// that row; every other error of a store — a lost connection, a timeout, a read-only standby after a
/// failover, a missing table during a deploy, a revoked grant, a Redis still loading its data — is
/// waited out, because failing a whole backlog for it would resell every unit into the same failure.
/// </summary>
public static class StoreFailures
{
    /// <summary>
    /// Redis error replies that describe the server's condition, not the command: loading its data
    /// set, a replica or a read-only node, a script running too long, out of memory, a failover or
    /// cluster reconfiguration in progress, persistence failing, credentials or grants changed.
    /// </summary>
    private static readonly HashSet<RedisErrorKind> RedisConditions =
    [
        RedisErrorKind.Loading, RedisErrorKind.ReadOnly, RedisErrorKind.Busy, RedisErrorKind.OutOfMemory, RedisErrorKind.MasterDown,
        RedisErrorKind.ClusterDown, RedisErrorKind.TryAgain, RedisErrorKind.NoReplicas, RedisErrorKind.Misconfigured, RedisErrorKind.MaxClients,
        RedisErrorKind.Moved, RedisErrorKind.Ask, RedisErrorKind.NoAuth, RedisErrorKind.WrongPass, RedisErrorKind.NoPermission,
        RedisErrorKind.ConnectionFault, RedisErrorKind.Timeout,
    ];

    /// <summary>The same conditions by the reply's first word, for a reply the client did not classify.</summary>
    private static readonly string[] RedisConditionWords =
        ["LOADING", "READONLY", "BUSY", "OOM", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "NOREPLICAS", "MISCONF", "MOVED", "ASK", "NOAUTH", "WRONGPASS", "NOPERM"];

    public static StoreFailure Classify(Exception exception) => exception switch
    {
        PostgresException postgres => IsAboutTheRow(postgres.SqlState) ? StoreFailure.RowRefused : StoreFailure.Outage,
        NpgsqlException => StoreFailure.Outage,
        RedisServerException redis => IsServerCondition(redis) ? StoreFailure.Outage : StoreFailure.Poison,
        RedisConnectionException or RedisTimeoutException => StoreFailure.Outage,
        TimeoutException or SocketException or IOException => StoreFailure.Outage,
        AggregateException aggregate => Combine(aggregate.InnerExceptions),
        _ when exception.InnerException is { } inner => Classify(inner),
        _ => StoreFailure.Poison,
    };

    public static bool IsOutage(Exception exception) => Classify(exception) == StoreFailure.Outage;

    /// <summary>
    /// SQLSTATE classes 22 (data exception: a value too long, bad encoding, out of range) and 23
    /// (integrity: a check, a unique or foreign key), and P0001 (a trigger's RAISE refusing the row).
    /// </summary>
    public static bool IsAboutTheRow(string sqlState) =>
        sqlState.StartsWith("22", StringComparison.Ordinal)
        || sqlState.StartsWith("23", StringComparison.Ordinal)
        || sqlState == PostgresErrorCodes.RaiseException;

    private static bool IsServerCondition(RedisServerException redis) =>
        redis.Kind is RedisErrorKind.None or RedisErrorKind.Unknown or RedisErrorKind.UnknownError
            ? StartsWithConditionWord(redis.Message)
            : RedisConditions.Contains(redis.Kind);

    private static bool StartsWithConditionWord(string message)
    {
        var word = message.AsSpan();
        var space = word.IndexOf(' ');
        if (space >= 0)
        {
            word = word[..space];
        }

        foreach (var condition in RedisConditionWords)
        {
            if (word.Equals(condition, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Parallel calls to several shards: poison wins over a row, a row over an outage.</summary>
    private static StoreFailure Combine(System.Collections.ObjectModel.ReadOnlyCollection<Exception> failures) =>
        failures.Count == 0 ? StoreFailure.Poison : failures.Select(Classify).Max();
}
