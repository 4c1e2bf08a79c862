namespace Seckill.Data;

public sealed class Order
{
    public Guid Id { get; init; }

    public Guid ReservationId { get; init; }

    public Guid CampaignId { get; init; }

    public required string UserId { get; init; }

    public int Shard { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary><see cref="OrderStatus"/>: awaiting payment until paid or past its deadline.</summary>
    public string Status { get; init; } = OrderStatus.AwaitingPayment;

    /// <summary>Written time plus the campaign's payment window; null only for orders written before payments existed (they never expire).</summary>
    public DateTimeOffset? PaymentDeadline { get; init; }

    public DateTimeOffset? PaidAt { get; init; }

    /// <summary>The buyer's payment reference; a repeated payment with it gets the same answer.</summary>
    public string? PaymentReference { get; init; }

    public DateTimeOffset? ExpiredAt { get; init; }

    /// <summary>Set once an expired order's unit is back on its shard; until then expiry keeps asking for it.</summary>
    public DateTimeOffset? UnitReturnedAt { get; init; }
}

/// <summary>An order's states. Only <see cref="AwaitingPayment"/> moves, once: to paid or to expired, whichever comes first.</summary>
public static class OrderStatus
{
    public const string AwaitingPayment = "awaiting-payment";
    public const string Paid = "paid";
    public const string PaymentExpired = "payment-expired";
}
