namespace Seckill.Intake.Purchases;

public abstract record PurchaseOutcome
{
    public sealed record Accepted(Guid ReservationId) : PurchaseOutcome;

    public sealed record AlreadyPurchased : PurchaseOutcome;

    public sealed record SoldOut : PurchaseOutcome;

    /// <summary>Nothing is held for the buyer; they may retry after <c>Retry-After</c>.</summary>
    public sealed record Unavailable(string Code, string Detail) : PurchaseOutcome;
}
