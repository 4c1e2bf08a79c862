namespace Seckill.Contracts;

/// <summary>
/// A buyer holds one unit of virtual inventory on <paramref name="Shard"/> under token
/// <paramref name="ReservationId"/>; a worker must now write the order (patent step S5).
/// </summary>
public sealed record SeckillAccepted(
    Guid ReservationId,
    Guid CampaignId,
    string UserId,
    int Shard,
    DateTimeOffset AcceptedAt);

/// <summary>
/// The order for <paramref name="ReservationId"/> will never be written; its unit goes back to
/// <paramref name="Shard"/> unless <paramref name="Reason"/> says the unit never existed.
/// </summary>
public sealed record StockReturnRequested(
    Guid ReservationId,
    Guid CampaignId,
    string UserId,
    int Shard,
    string Reason);

/// <summary>
/// Many <see cref="SeckillAccepted"/> purchases in one message: the intake's group commit, so one
/// broker confirm covers every purchase that arrived while the previous publish was in flight.
/// Published to the same exchange as the single form; workers write both.
/// </summary>
public sealed record SeckillAcceptedBatch(IReadOnlyList<SeckillAccepted> Purchases);
