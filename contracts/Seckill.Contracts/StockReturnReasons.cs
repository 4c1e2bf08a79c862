namespace Seckill.Contracts;

/// <summary>Why a reservation ended without an order; the reason decides whether its unit goes back.</summary>
public static class StockReturnReasons
{
    /// <summary>The intake could not get the broker's confirm, so the purchase was never accepted.</summary>
    public const string BrokerUnavailable = "broker-unavailable";

    /// <summary>PostgreSQL refused the order's write (after in-memory retries) for this reservation alone.</summary>
    public const string WriteFailed = "write-failed";

    /// <summary>
    /// The accepted message ended in <c>seckill-orders_error</c> (poison, past the delivery limit, or
    /// failing after its retries) before any order was written for it.
    /// </summary>
    public const string DeadLettered = "dead-lettered";

    /// <summary>The buyer already has an order in this campaign under another reservation.</summary>
    public const string DuplicateBuyer = "duplicate-buyer";

    /// <summary>
    /// The real-inventory guard (sold + n &lt;= total_stock) refused the order: the virtual stock held a
    /// unit the real stock never had, so it is NOT returned to a shard, or it would be sold again.
    /// </summary>
    public const string SoldOutInDatabase = "sold-out-in-database";

    /// <summary>
    /// The order was written but not paid by its deadline: the real inventory already took the unit
    /// back, and this returns it to its shard so another buyer can buy it.
    /// </summary>
    public const string PaymentExpired = "payment-expired";

    public static bool ReturnsUnit(string reason) => reason != SoldOutInDatabase;
}
