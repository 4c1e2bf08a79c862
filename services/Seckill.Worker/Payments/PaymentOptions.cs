using System.ComponentModel.DataAnnotations;

namespace Seckill.Worker.Payments;

public sealed class PaymentOptions
{
    public const string Section = "Seckill:Payments";

    /// <summary>Run payment expiry in this worker (every worker may; they split the due orders).</summary>
    public bool ExpiryEnabled { get; init; } = true;

    /// <summary>How often due orders are looked for: an unpaid order expires within about this long after its deadline.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan ExpiryInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Orders expired per transaction; a round repeats while batches come back full.</summary>
    [Range(1, 10_000)]
    public int ExpiryBatchSize { get; init; } = 500;

    /// <summary>
    /// An expired order whose unit is still not confirmed back on its shard this long after it expired
    /// (its compensation message was lost, or failed for good) is asked for again.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan UnitReturnTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
