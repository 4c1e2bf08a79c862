namespace Seckill.Inventory;

/// <summary>Token states: pending → claimed → confirmed, pending|claimed → failed, pending → expired.</summary>
public static class TokenStates
{
    public const string Pending = "pending";
    public const string Claimed = "claimed";
    public const string Confirmed = "confirmed";
    public const string Failed = "failed";
    public const string Expired = "expired";
}

/// <summary>A reservation token as stored on its shard.</summary>
public sealed record ReservationToken(string State, string UserId, DateTimeOffset AcceptedAt, int HomeShard, Guid? OrderId, string? Reason);

/// <summary>What a campaign looks like to the inventory: its id, the number carried in reservation ids, and m.</summary>
public readonly record struct CampaignShards(Guid Id, int Number, int ShardCount);

public abstract record ReserveOutcome
{
    /// <summary>One unit taken from <paramref name="Shard"/> and held under a pending token.</summary>
    public sealed record Reserved(Guid ReservationId, int Shard, DateTimeOffset AcceptedAt) : ReserveOutcome;

    /// <summary>The buyer already holds a reservation (or one is being made right now, then <paramref name="ReservationId"/> is null).</summary>
    public sealed record AlreadyHeld(Guid? ReservationId, string? IdempotencyKey) : ReserveOutcome;

    public sealed record SoldOut : ReserveOutcome;

    /// <summary>The search took longer than the hold on the buyer's marker; nothing is held, the buyer may retry.</summary>
    public sealed record HoldLost : ReserveOutcome;
}

/// <summary>One accepted reservation a worker is about to write.</summary>
public sealed record ClaimRequest(Guid CampaignId, int Shard, Guid ReservationId, string UserId, DateTimeOffset AcceptedAt);

/// <summary>An order written for a reservation, to be confirmed on its token.</summary>
public sealed record Confirmation(Guid CampaignId, int Shard, Guid ReservationId, Guid OrderId);

/// <summary>The token's state after a claim, with the order id when it was already confirmed.</summary>
public sealed record ClaimResult(string State, Guid? OrderId);

public enum ReturnOutcome
{
    Released,
    AlreadyEnded,
    AlreadyConfirmed,
    Missing,
}
