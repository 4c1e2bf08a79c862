namespace Seckill.Data;

public sealed class Order
{
    public Guid Id { get; init; }

    public Guid ReservationId { get; init; }

    public Guid CampaignId { get; init; }

    public required string UserId { get; init; }

    public int Shard { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
}
