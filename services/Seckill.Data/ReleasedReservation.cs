namespace Seckill.Data;

/// <summary>
/// A reservation that will never get an order, and why. Written under the campaign row's lock, like
/// the orders, so for every reservation PostgreSQL holds exactly one verdict: an order or this row.
/// A late or redelivered message meets it and writes nothing.
/// </summary>
public sealed class ReleasedReservation
{
    public Guid ReservationId { get; init; }

    public Guid CampaignId { get; init; }

    public required string Reason { get; init; }

    public DateTimeOffset ReleasedAt { get; init; }
}
