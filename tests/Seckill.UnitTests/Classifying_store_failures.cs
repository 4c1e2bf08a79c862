using System.Net.Sockets;
using Npgsql;
using Seckill.Worker.Stores;
using StackExchange.Redis;

namespace Seckill.UnitTests;

public class Classifying_store_failures
{
    [Theory]
    [InlineData("23505", "unique violation")]
    [InlineData("23514", "check violation")]
    [InlineData("22001", "value too long")]
    [InlineData("22021", "invalid byte sequence")]
    [InlineData("P0001", "a trigger's RAISE")]
    public void Blames_the_row_only_for_errors_about_its_data(string sqlState, string why)
    {
        Assert.True(StoreFailure.RowRefused == StoreFailures.Classify(Postgres(sqlState)), why);
    }

    [Theory]
    [InlineData("57014", "statement timeout")]
    [InlineData("55P03", "lock timeout")]
    [InlineData("25006", "read-only transaction after a failover")]
    [InlineData("42501", "permission denied")]
    [InlineData("42P01", "missing table")]
    [InlineData("57P01", "administrator shutdown")]
    [InlineData("53300", "too many connections")]
    [InlineData("40001", "serialization failure")]
    [InlineData("08006", "connection failure")]
    public void Waits_out_every_other_postgres_error(string sqlState, string why)
    {
        Assert.True(StoreFailure.Outage == StoreFailures.Classify(Postgres(sqlState)), why);
    }

    [Theory]
    [InlineData(RedisErrorKind.Loading, "LOADING Redis is loading the dataset in memory")]
    [InlineData(RedisErrorKind.ReadOnly, "READONLY You can't write against a read only replica.")]
    [InlineData(RedisErrorKind.Busy, "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")]
    [InlineData(RedisErrorKind.OutOfMemory, "OOM command not allowed when used memory > 'maxmemory'.")]
    [InlineData(RedisErrorKind.MasterDown, "MASTERDOWN Link with MASTER is down")]
    [InlineData(RedisErrorKind.ClusterDown, "CLUSTERDOWN The cluster is down")]
    [InlineData(RedisErrorKind.TryAgain, "TRYAGAIN Multiple keys request during rehashing of slot")]
    [InlineData(RedisErrorKind.Unknown, "LOADING a reply the client did not classify")]
    public void Waits_out_redis_replies_about_the_servers_condition(RedisErrorKind kind, string reply)
    {
        Assert.Equal(StoreFailure.Outage, StoreFailures.Classify(Redis(kind, reply)));
    }

    [Theory]
    [InlineData(RedisErrorKind.UnknownError, "ERR Error running script (call to f_1234): @user_script:3: bad argument")]
    [InlineData(RedisErrorKind.WrongType, "WRONGTYPE Operation against a key holding the wrong kind of value")]
    [InlineData(RedisErrorKind.CrossSlot, "CROSSSLOT Keys in request don't hash to the same slot")]
    [InlineData(RedisErrorKind.Unknown, "BUSYKEY Target key name already exists.")]
    public void Calls_a_redis_reply_about_the_command_poison(RedisErrorKind kind, string reply)
    {
        Assert.Equal(StoreFailure.Poison, StoreFailures.Classify(Redis(kind, reply)));
    }

    [Fact]
    public void Waits_out_lost_connections_and_timeouts()
    {
        Assert.Equal(StoreFailure.Outage, StoreFailures.Classify(new RedisConnectionException(ConnectionFailureType.SocketFailure, CommandFlags.None, "gone", null, CommandStatus.Sent)));
        Assert.Equal(StoreFailure.Outage, StoreFailures.Classify(new RedisTimeoutException(CommandFlags.None, "slow", CommandStatus.Sent)));
        Assert.Equal(StoreFailure.Outage, StoreFailures.Classify(new NpgsqlException("connection refused", new SocketException())));
        Assert.Equal(StoreFailure.Outage, StoreFailures.Classify(new TimeoutException()));
    }

    [Fact]
    public void Looks_inside_wrappers_and_lets_the_worst_of_several_failures_decide()
    {
        Assert.Equal(StoreFailure.Outage, StoreFailures.Classify(new InvalidOperationException("wrapped", Redis(RedisErrorKind.Loading, "LOADING …"))));
        Assert.Equal(StoreFailure.Outage, StoreFailures.Classify(new AggregateException(new TimeoutException(), Redis(RedisErrorKind.Busy, "BUSY …"))));
        Assert.Equal(StoreFailure.Poison, StoreFailures.Classify(new AggregateException(new TimeoutException(), Redis(RedisErrorKind.UnknownError, "ERR bad"))));
        Assert.Equal(StoreFailure.Poison, StoreFailures.Classify(new InvalidOperationException("a defect")));
    }

    private static RedisServerException Redis(RedisErrorKind kind, string reply) => new(kind, CommandFlags.None, reply);

    private static PostgresException Postgres(string sqlState) => new("test", "ERROR", "ERROR", sqlState);
}
