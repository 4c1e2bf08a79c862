using System.Net.Sockets;
using Npgsql;
using StackExchange.Redis;

namespace Seckill.Worker.Orders;

/// <summary>Failures that say "the store is away", not "this order is wrong": they are waited out, never failed.</summary>
public static class TransientFailures
{
    public static bool IsTransient(Exception exception) => exception switch
    {
        NpgsqlException npgsql => npgsql.IsTransient,
        RedisConnectionException or RedisTimeoutException => true,
        TimeoutException or SocketException => true,
        AggregateException aggregate => aggregate.InnerExceptions.All(IsTransient),
        _ => exception.InnerException is { } inner && IsTransient(inner),
    };
}
