using System.ComponentModel.DataAnnotations;

namespace Seckill.Worker;

/// <summary>
/// Rate control of one worker process. Workers are competing consumers of <c>seckill-orders</c>,
/// so the fleet's rate is processes × <see cref="MaxOrdersPerSecond"/>.
/// </summary>
public sealed class WorkerOptions
{
    public const string Section = "Seckill:Worker";

    /// <summary>Orders written per second by this process; 0 = as fast as PostgreSQL takes them.</summary>
    [Range(0, 1_000_000)]
    public int MaxOrdersPerSecond { get; init; }

    /// <summary>Orders per batch: one transaction and one update of the campaign's row each.</summary>
    [Range(1, 5_000)]
    public int BatchSize { get; init; } = 200;

    /// <summary>
    /// How long a batch waits to fill. Kept far below RabbitMQ's consumer timeout (30 minutes by
    /// default), past which the broker would take the unacknowledged messages back.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:00:10")]
    public TimeSpan BatchTimeLimit { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Group-commit messages (each up to the intake's MaxPurchasesPerMessage purchases) taken together;
    /// their purchases are written in transactions of at most <see cref="BatchSize"/> orders.
    /// </summary>
    [Range(1, 1_000)]
    public int GroupMessagesPerBatch { get; init; } = 8;

    /// <summary>Batches written at once by this process.</summary>
    [Range(1, 64)]
    public int BatchConcurrency { get; init; } = 2;

    /// <summary>Messages the broker sends ahead; 0 = two full rounds of batches.</summary>
    [Range(0, 100_000)]
    public int PrefetchCount { get; init; }

    /// <summary>Messages held in processing at once; 0 = what the batches need.</summary>
    [Range(0, 100_000)]
    public int ConcurrentMessageLimit { get; init; }

    /// <summary>Compensation messages handled at once.</summary>
    [Range(1, 1_000)]
    public int CompensationConcurrency { get; init; } = 16;

    public const int DefaultHttpPort = 5090;

    /// <summary>
    /// Port of the worker's <c>/metrics</c> and <c>/health/*</c> listener; infra/run.sh gives worker k
    /// 5090+k. 0 takes a free port (the tests, which run several workers in one process).
    /// </summary>
    [Range(0, 65_535)]
    public int HttpPort { get; init; } = DefaultHttpPort;

    /// <summary>
    /// Address the listener binds: loopback like every local server of the scripts; 0.0.0.0 (or the
    /// host's address) when Prometheus scrapes from another machine.
    /// </summary>
    [Required]
    public string HttpAddress { get; init; } = "127.0.0.1";

    public int EffectivePrefetch => PrefetchCount > 0 ? PrefetchCount : BatchSize * BatchConcurrency * 2;
}
