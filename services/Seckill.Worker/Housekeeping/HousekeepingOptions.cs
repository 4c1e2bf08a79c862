using System.ComponentModel.DataAnnotations;

namespace Seckill.Worker.Housekeeping;

public sealed class HousekeepingOptions
{
    public const string Section = "Seckill:Housekeeping";

    public bool Enabled { get; init; } = true;

    /// <summary>How often ended campaigns are checked for being settled and for being due for deletion.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan Interval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a sale must have ended before its reservations are checked for being final. Longer than
    /// any intake can go on accepting after the end (its campaign cache, at most a second) plus the
    /// clocks' skew between hosts: a reservation made after the check would be left behind.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan SettleAfter { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a settled campaign keeps its keys in Redis (tokens for buyers' status checks, markers,
    /// counters) before they are deleted and the campaign is answered from PostgreSQL alone.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan Retention { get; init; } = TimeSpan.FromHours(24);
}
