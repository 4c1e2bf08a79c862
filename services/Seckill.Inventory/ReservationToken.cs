namespace Seckill.Inventory;

/// <summary>
/// Where a reservation's purchase is. reserved → queued → claimed → confirmed, or → failed with its
/// unit back; each move is one Lua script, and whoever moves a token first wins.
/// </summary>
public enum TokenState
{
    /// <summary>A unit is taken, the broker has not confirmed the message yet (or never will).</summary>
    Reserved,

    /// <summary>The broker confirmed the message: only a worker decides its fate now.</summary>
    Queued,

    /// <summary>A worker is writing its order.</summary>
    Claimed,

    Confirmed,

    /// <summary>Ended without an order; the unit went back unless it never existed.</summary>
    Failed,

    /// <summary>Its order was not paid by the deadline: the order expired and the unit went back.</summary>
    Expired,
}

/// <summary>The token states as stored in Redis: the conversion lives here, at the storage edge.</summary>
public static class TokenStates
{
    public static string ToStored(this TokenState state) => state switch
    {
        TokenState.Reserved => "reserved",
        TokenState.Queued => "queued",
        TokenState.Claimed => "claimed",
        TokenState.Confirmed => "confirmed",
        TokenState.Failed => "failed",
        TokenState.Expired => "expired",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    /// <summary>Null for a word no script writes (a token from a future or foreign version).</summary>
    public static TokenState? Parse(string? stored) => stored switch
    {
        "reserved" => TokenState.Reserved,
        "queued" => TokenState.Queued,
        "claimed" => TokenState.Claimed,
        "confirmed" => TokenState.Confirmed,
        "failed" => TokenState.Failed,
        "expired" => TokenState.Expired,
        _ => null,
    };

    /// <summary>Not final: the unit is held and an order may still be written.</summary>
    public static bool IsPending(this TokenState state) => state is TokenState.Reserved or TokenState.Queued or TokenState.Claimed;
}

/// <summary>A reservation token as stored on its shard; <paramref name="State"/> is null for a state this version does not know.</summary>
public sealed record ReservationToken(TokenState? State, string UserId, DateTimeOffset AcceptedAt, int HomeShard, Guid? OrderId, string? Reason);

/// <summary>What a campaign looks like to the inventory: its id, the number carried in reservation ids, and m.</summary>
public readonly record struct CampaignShards(Guid Id, int Number, int ShardCount);

public abstract record ReserveOutcome
{
    /// <summary>One unit taken from <paramref name="Shard"/> and held under a reserved token.</summary>
    public sealed record Reserved(Guid ReservationId, int Shard, DateTimeOffset AcceptedAt) : ReserveOutcome;

    /// <summary>The buyer already holds the reservation <paramref name="ReservationId"/>, made with <paramref name="IdempotencyKey"/> (null: none).</summary>
    public sealed record AlreadyHeld(Guid ReservationId, string? IdempotencyKey, string Marker) : ReserveOutcome;

    /// <summary>
    /// Another request of the buyer, sent with <paramref name="IdempotencyKey"/> (null: none), is searching
    /// the other shards right now under the hold <paramref name="Marker"/>; it ends within the hold's ttl.
    /// </summary>
    public sealed record Searching(string? IdempotencyKey, string Marker) : ReserveOutcome;

    public sealed record SoldOut : ReserveOutcome;

    /// <summary>The search took longer than the hold on the buyer's marker; nothing is held, the buyer may retry.</summary>
    public sealed record HoldLost : ReserveOutcome;
}

/// <summary>One accepted reservation a worker is about to write.</summary>
public sealed record ClaimRequest(Guid CampaignId, int Shard, Guid ReservationId, string UserId, DateTimeOffset AcceptedAt);

/// <summary>An order written for a reservation, to be confirmed on its token.</summary>
public sealed record Confirmation(Guid CampaignId, int Shard, Guid ReservationId, Guid OrderId);

/// <summary>A reservation to hand off or look at on its shard.</summary>
public sealed record ShardReservation(Guid CampaignId, int Shard, Guid ReservationId);

public enum ClaimVerdict
{
    /// <summary>This worker holds it now: write its order.</summary>
    Claimed,

    /// <summary>Its order is already written (a redelivery); <see cref="ClaimResult.OrderId"/> names it.</summary>
    Confirmed,

    /// <summary>It ended without an order; its unit is already back.</summary>
    Failed,

    /// <summary>The token aged out long after it ended: its fate was decided, nothing is to be done.</summary>
    Gone,
}

/// <summary>The token's verdict after a claim, with the order id when it was already confirmed.</summary>
public sealed record ClaimResult(ClaimVerdict Verdict, Guid? OrderId);

/// <summary>
/// Where a hand-off (or an undo) left a reservation: the state it is in now, or <c>null</c> when its
/// token is missing (lost with its Redis server).
/// </summary>
public sealed record HandOffResult(TokenState? State);

public enum ReleaseOutcome
{
    /// <summary>This call ended the token and returned its unit.</summary>
    Released,

    /// <summary>It had already ended without an order.</summary>
    AlreadyFailed,

    /// <summary>It has an order: nothing to return.</summary>
    AlreadyConfirmed,

    /// <summary>It is in a state this release may not leave (e.g. an undo finding a worker's claim).</summary>
    Kept,

    Missing,
}
