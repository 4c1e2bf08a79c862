using System.ComponentModel.DataAnnotations;

namespace Seckill.Inventory;

public sealed class ReservationOptions
{
    public const string Section = "Seckill:Reservations";

    /// <summary>How long a buyer's marker is held while other shards are searched; frees the buyer if an intake dies mid-search.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan HoldTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an ended (failed, expired, confirmed) token stays readable in Redis; confirmed orders stay in PostgreSQL.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "90.00:00:00")]
    public TimeSpan EndedTokenLifetime { get; init; } = TimeSpan.FromDays(7);
}
