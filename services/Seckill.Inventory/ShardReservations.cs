using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Seckill.Inventory;

/// <summary>
/// Patent step S4 against the shards, and every later move of a reservation's token (see
/// docs/decisions.md, "Token states"). The buyer's marker always lives on the buyer's home shard;
/// that single key is what keeps a buyer to one reservation across all shards, even for
/// concurrent requests.
/// </summary>
public sealed partial class ShardReservations(
    ShardConnections shards,
    IOptions<ReservationOptions> options,
    TimeProvider clock,
    ILogger<ShardReservations> logger)
{
    private const string FromUndoable = "reserved";
    private const string FromPending = "reserved,queued,claimed";
    private readonly ReservationOptions _options = options.Value;

    private long EndedTokenTtl => (long)_options.EndedTokenLifetime.TotalMilliseconds;

    public async Task<ReserveOutcome> ReserveAsync(CampaignShards campaign, string userId, string? idempotencyKey)
    {
        var now = clock.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        var key = idempotencyKey ?? "";
        var home = HomeShard.Of(userId, campaign.ShardCount);
        var homeKeys = new ShardKeys(campaign.Id, home);
        var reservationId = ReservationIds.New(campaign.Number, home);

        var result = (RedisResult[])(await shards.ForShard(home).ScriptEvaluateAsync(
            LuaScripts.Reserve,
            [homeKeys.Stock, homeKeys.Buyer(userId), homeKeys.Token(reservationId), homeKeys.Unsent, homeKeys.Pending],
            [Id(reservationId), userId, nowMs, key, (long)_options.HoldTimeout.TotalMilliseconds, home]))!;

        switch ((string?)result[0])
        {
            case "reserved":
                return new ReserveOutcome.Reserved(reservationId, home, now);
            case "held":
                return Held((string)result[1]!);
        }

        return await ReserveElsewhereAsync(campaign, userId, key, home, holdMarker: Hold(reservationId, key), now);
    }

    /// <summary>
    /// reserved → queued once the broker confirmed the messages: one script call per shard. Answers
    /// each token's state as it is now (null: the token is missing), in the order of <paramref name="handedOff"/>.
    /// </summary>
    public async Task<TokenState?[]> HandOffAsync(IReadOnlyList<ShardReservation> handedOff)
    {
        var states = new TokenState?[handedOff.Count];
        await Task.WhenAll(GroupByShard(handedOff, r => (r.CampaignId, r.Shard)).Select(async group =>
        {
            var keys = new ShardKeys(group.CampaignId, group.Shard);
            RedisKey[] scriptKeys = [keys.Unsent, .. group.Indices.Select(i => keys.Token(handedOff[i].ReservationId))];
            RedisValue[] args = [.. group.Indices.Select(i => (RedisValue)Id(handedOff[i].ReservationId))];
            var answers = (RedisResult[])(await shards.ForShard(group.Shard).ScriptEvaluateAsync(LuaScripts.HandOff, scriptKeys, args))!;
            for (var j = 0; j < group.Indices.Length; j++)
            {
                states[group.Indices[j]] = TokenStates.Parse((string?)answers[j]);
            }
        }));
        return states;
    }

    /// <summary>
    /// Returns the unit of a reservation whose message the broker did not confirm, frees the buyer and
    /// fails the token — only while it is still reserved: a token a worker already claimed (the message
    /// did reach the broker) or that was handed off is kept. Answers the token's state afterwards
    /// (null: missing), so the caller answers 503 only when nothing is held.
    /// </summary>
    public async Task<TokenState?> UndoAsync(Guid campaignId, int shard, Guid reservationId, string userId, string reason)
    {
        var (outcome, state) = await ReleaseAsync(campaignId, shard, reservationId, userId, FromUndoable, reason, returnUnit: true);
        return outcome == ReleaseOutcome.Released ? TokenState.Failed : state;
    }

    /// <summary>
    /// reserved|queued → claimed before orders are written: one script call per shard for the whole batch,
    /// the shards' calls in parallel. Results are in the order of <paramref name="claims"/>.
    /// </summary>
    public async Task<ClaimResult[]> ClaimAsync(IReadOnlyList<ClaimRequest> claims)
    {
        var results = new ClaimResult[claims.Count];
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await Task.WhenAll(GroupByShard(claims, c => (c.CampaignId, c.Shard)).Select(async group =>
        {
            var keys = new ShardKeys(group.CampaignId, group.Shard);
            RedisKey[] scriptKeys = [keys.Unsent, keys.Pending, .. group.Indices.Select(i => keys.Token(claims[i].ReservationId))];
            RedisValue[] args = [now, EndedTokenTtl, .. group.Indices.SelectMany(i => new RedisValue[]
            {
                Id(claims[i].ReservationId), claims[i].UserId, claims[i].AcceptedAt.ToUnixTimeMilliseconds(),
            })];
            var answers = (RedisResult[])(await shards.ForShard(group.Shard).ScriptEvaluateAsync(LuaScripts.ClaimBatch, scriptKeys, args))!;
            for (var j = 0; j < group.Indices.Length; j++)
            {
                results[group.Indices[j]] = ParseClaim((string)answers[j]!);
            }
        }));
        return results;
    }

    public async Task<ClaimResult> ClaimAsync(Guid campaignId, int shard, Guid reservationId, string userId, DateTimeOffset acceptedAt) =>
        (await ClaimAsync([new ClaimRequest(campaignId, shard, reservationId, userId, acceptedAt)]))[0];

    /// <summary>→ confirmed once the orders' transaction committed; one script call per shard.</summary>
    public async Task ConfirmAsync(IReadOnlyList<Confirmation> confirmations)
    {
        await Task.WhenAll(GroupByShard(confirmations, c => (c.CampaignId, c.Shard)).Select(group =>
        {
            var keys = new ShardKeys(group.CampaignId, group.Shard);
            RedisKey[] scriptKeys = [keys.Unsent, keys.Pending, .. group.Indices.Select(i => keys.Token(confirmations[i].ReservationId))];
            RedisValue[] args = [EndedTokenTtl, .. group.Indices.SelectMany(i => new RedisValue[]
            {
                Id(confirmations[i].ReservationId), confirmations[i].OrderId.ToString("D"),
            })];
            return shards.ForShard(group.Shard).ScriptEvaluateAsync(LuaScripts.ConfirmBatch, scriptKeys, args);
        }));
    }

    /// <summary>
    /// Compensation: the order for this reservation will never be written. The token ends failed with
    /// the reason, the unit goes back to the shard it came from (unless <paramref name="returnUnit"/> is
    /// false because the unit never existed), and the buyer is freed to try again. Repeating it returns
    /// no second unit: only the first release finds the token pending.
    /// </summary>
    public async Task<ReleaseOutcome> ReturnAsync(Guid campaignId, int shard, Guid reservationId, string userId, string reason, bool returnUnit) =>
        (await ReleaseAsync(campaignId, shard, reservationId, userId, FromPending, reason, returnUnit)).Outcome;

    /// <summary>
    /// Gives an expired order's unit back to its shard (see Scripts/return_expired_unit.lua): true when
    /// the unit is back now or was already, false when the token is in a state that holds no order.
    /// </summary>
    public async Task<bool> ReturnExpiredUnitAsync(Guid campaignId, int shard, Guid reservationId, string userId)
    {
        var keys = new ShardKeys(campaignId, shard);
        var answer = (string?)await shards.ForShard(shard).ScriptEvaluateAsync(
            LuaScripts.ReturnExpiredUnit, [keys.Token(reservationId), keys.Stock], [Id(reservationId), userId, shard, EndedTokenTtl]);
        return answer is "returned" or "already";
    }

    /// <summary>
    /// The sweeper's read of one shard: reservations still reserved (never handed off) that were
    /// accepted before <paramref name="acceptedBefore"/>, oldest first, with their tokens (null when
    /// the index names a token that is gone). Queued and claimed tokens are not in this index at all.
    /// </summary>
    public async Task<IReadOnlyList<(Guid ReservationId, ReservationToken? Token)>> ReadUnsentAsync(
        Guid campaignId, int shard, DateTimeOffset acceptedBefore, int limit)
    {
        var keys = new ShardKeys(campaignId, shard);
        var db = shards.ForShard(shard);
        var due = await db.SortedSetRangeByScoreAsync(keys.Unsent, double.NegativeInfinity, acceptedBefore.ToUnixTimeMilliseconds(), take: limit);
        var reads = due.Select(member =>
        {
            var id = Guid.ParseExact((string)member!, "N");
            return (Id: id, Read: db.HashGetAllAsync(keys.Token(id)));
        }).ToList();
        var found = new List<(Guid, ReservationToken?)>(reads.Count);
        foreach (var (id, read) in reads)
        {
            found.Add((id, ToToken(await read)));
        }

        return found;
    }

    /// <summary>Drops an entry of the unsent index whose token is no longer reserved (a stale entry).</summary>
    public Task ForgetUnsentAsync(Guid campaignId, int shard, Guid reservationId) =>
        shards.ForShard(shard).SortedSetRemoveAsync(new ShardKeys(campaignId, shard).Unsent, Id(reservationId));

    /// <summary>
    /// Retries forgetting the markers of buyers whose reservation on this shard ended while their
    /// marker lives on another shard (see release.lua). Returns how many entries it settled.
    /// </summary>
    public async Task<int> ForgetReleasedBuyersAsync(Guid campaignId, int shard, int limit)
    {
        var keys = new ShardKeys(campaignId, shard);
        var db = shards.ForShard(shard);
        var entries = await db.SetRandomMembersAsync(keys.Unmark, limit);
        foreach (var entry in entries)
        {
            var parts = ((string)entry!).Split(':', 3);
            if (parts.Length == 3
                && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var home)
                && Guid.TryParseExact(parts[1], "N", out var reservationId))
            {
                await ForgetBuyerAsync(campaignId, home, parts[2], reservationId);
            }

            await db.SetRemoveAsync(keys.Unmark, entry);
        }

        return entries.Length;
    }

    /// <summary>
    /// Deletes a buyer's marker only if it still holds <paramref name="marker"/>: a marker naming a
    /// reservation that already failed must not lock the buyer out.
    /// </summary>
    public Task<bool> ClearMarkerAsync(CampaignShards campaign, string userId, string marker)
    {
        var home = HomeShard.Of(userId, campaign.ShardCount);
        return SettleMarkerAsync(home, new ShardKeys(campaign.Id, home).Buyer(userId), marker, "");
    }

    /// <summary>Whether the buyer's home shard holds a marker for them in this campaign: one GET, no reservation made.</summary>
    public Task<bool> HasMarkerAsync(CampaignShards campaign, string userId)
    {
        var home = HomeShard.Of(userId, campaign.ShardCount);
        return shards.ForShard(home).KeyExistsAsync(new ShardKeys(campaign.Id, home).Buyer(userId));
    }

    public async Task<ReservationToken?> ReadTokenAsync(Guid campaignId, int shard, Guid reservationId) =>
        ToToken(await shards.ForShard(shard).HashGetAllAsync(new ShardKeys(campaignId, shard).Token(reservationId)));

    private static ReservationToken? ToToken(HashEntry[] fields)
    {
        if (fields.Length == 0)
        {
            return null;
        }

        var map = fields.ToDictionary(f => (string)f.Name!, f => (string?)f.Value);
        return new ReservationToken(
            TokenStates.Parse(map.GetValueOrDefault("s")),
            map.GetValueOrDefault("u") ?? "",
            DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(map.GetValueOrDefault("at") ?? "0", CultureInfo.InvariantCulture)),
            int.Parse(map.GetValueOrDefault("h") ?? "0", CultureInfo.InvariantCulture),
            Guid.TryParse(map.GetValueOrDefault("o"), out var orderId) ? orderId : null,
            map.GetValueOrDefault("r"));
    }

    private async Task<ReserveOutcome> ReserveElsewhereAsync(CampaignShards campaign, string userId, string key, int home, string holdMarker, DateTimeOffset now)
    {
        var others = campaign.ShardCount - 1;
        // A random starting point spreads the buyers of an empty home shard over the remaining ones.
        var offset = others > 0 ? Random.Shared.Next(others) : 0;
        var homeKeys = new ShardKeys(campaign.Id, home);
        for (var step = 0; step < others; step++)
        {
            var shard = (home + 1 + ((offset + step) % others)) % campaign.ShardCount;
            var keys = new ShardKeys(campaign.Id, shard);
            var reservationId = ReservationIds.New(campaign.Number, shard);
            var taken = (long)(await shards.ForShard(shard).ScriptEvaluateAsync(
                LuaScripts.ReserveElsewhere,
                [keys.Stock, keys.Token(reservationId), keys.Unsent, keys.Pending],
                [Id(reservationId), userId, now.ToUnixTimeMilliseconds(), key, home]));
            if (taken == 0)
            {
                continue;
            }

            if (await SettleMarkerAsync(home, homeKeys.Buyer(userId), holdMarker, Marker(reservationId, key)))
            {
                return new ReserveOutcome.Reserved(reservationId, shard, now);
            }

            // The hold expired while we searched: another request of this buyer may be reserving now,
            // so this unit must go back rather than give the buyer two.
            await ReleaseAsync(campaign.Id, shard, reservationId, userId, FromUndoable, "hold-expired", returnUnit: true);
            return new ReserveOutcome.HoldLost();
        }

        await SettleMarkerAsync(home, homeKeys.Buyer(userId), holdMarker, "");
        return new ReserveOutcome.SoldOut();
    }

    /// <summary>
    /// release.lua, then — for a buyer whose marker is on another shard — forgetting that marker. The
    /// script recorded it in the unmark set atomically with the release, so when this second call
    /// fails the sweeper retries it; the release itself stands either way.
    /// </summary>
    private async Task<(ReleaseOutcome Outcome, TokenState? State)> ReleaseAsync(
        Guid campaignId, int shard, Guid reservationId, string userId, string fromStates, string reason, bool returnUnit)
    {
        var keys = new ShardKeys(campaignId, shard);
        var result = (RedisResult[])(await shards.ForShard(shard).ScriptEvaluateAsync(
            LuaScripts.Release,
            [keys.Token(reservationId), keys.Stock, keys.Unsent, keys.Pending, keys.Failed, keys.Unmark, keys.Buyer(userId)],
            [Id(reservationId), fromStates, reason, returnUnit ? 1 : 0, EndedTokenTtl, shard]))!;
        var answer = (string)result[0]!;
        if (answer != "released")
        {
            var state = TokenStates.Parse(answer);
            return (state switch
            {
                null => ReleaseOutcome.Missing,
                TokenState.Failed => ReleaseOutcome.AlreadyFailed,
                TokenState.Confirmed => ReleaseOutcome.AlreadyConfirmed,
                _ => ReleaseOutcome.Kept,
            }, state);
        }

        var home = int.Parse((string)result[1]!, CultureInfo.InvariantCulture);
        if (home >= 0 && home != shard)
        {
            var user = (string)result[2]!;
            try
            {
                await ForgetBuyerAsync(campaignId, home, user, reservationId);
                await shards.ForShard(shard).SetRemoveAsync(keys.Unmark, $"{home}:{Id(reservationId)}:{user}");
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                // RedisTimeoutException is a TimeoutException, not a RedisException. The release stands either way.
                LogForgetDeferred(logger, e, reservationId, home);
            }
        }

        return (ReleaseOutcome.Released, TokenState.Failed);
    }

    private async Task ForgetBuyerAsync(Guid campaignId, int home, string userId, Guid reservationId) =>
        await shards.ForShard(home).ScriptEvaluateAsync(
            LuaScripts.ForgetBuyer, [new ShardKeys(campaignId, home).Buyer(userId)], [Id(reservationId)]);

    private async Task<bool> SettleMarkerAsync(int home, RedisKey marker, string expected, string replacement) =>
        (long)await shards.ForShard(home).ScriptEvaluateAsync(LuaScripts.SettleMarker, [marker], [expected, replacement]) == 1;

    private static ClaimResult ParseClaim(string answer) => answer switch
    {
        "claimed" => new ClaimResult(ClaimVerdict.Claimed, null),
        "gone" => new ClaimResult(ClaimVerdict.Gone, null),
        "failed" => new ClaimResult(ClaimVerdict.Failed, null),
        _ when answer.StartsWith("confirmed:", StringComparison.Ordinal) =>
            new ClaimResult(ClaimVerdict.Confirmed, Guid.TryParse(answer["confirmed:".Length..], out var orderId) ? orderId : null),
        _ => throw new InvalidOperationException($"claim_batch.lua answered '{answer}', which no version of it writes."),
    };

    private static ReserveOutcome Held(string marker)
    {
        var separator = marker.IndexOf('|', StringComparison.Ordinal);
        var idPart = marker[..separator];
        var key = marker[(separator + 1)..];
        var idempotencyKey = key.Length == 0 ? null : key;
        return idPart.StartsWith('~')
            ? new ReserveOutcome.Searching(idempotencyKey, marker)
            : new ReserveOutcome.AlreadyHeld(Guid.ParseExact(idPart, "N"), idempotencyKey, marker);
    }

    private static string Id(Guid reservationId) => reservationId.ToString("N");

    /// <summary>Indices of <paramref name="items"/> grouped by campaign and shard: a script may touch one shard's keys only.</summary>
    private static IEnumerable<ShardGroup> GroupByShard<T>(IReadOnlyList<T> items, Func<T, (Guid CampaignId, int Shard)> shardOf) =>
        Enumerable.Range(0, items.Count)
            .GroupBy(i => shardOf(items[i]))
            .Select(g => new ShardGroup(g.Key.CampaignId, g.Key.Shard, [.. g]));

    private sealed record ShardGroup(Guid CampaignId, int Shard, int[] Indices);

    private static string Marker(Guid reservationId, string key) => $"{Id(reservationId)}|{key}";

    private static string Hold(Guid reservationId, string key) => $"~{Id(reservationId)}|{key}";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forgetting the marker of reservation {ReservationId} on home shard {Home} failed; the sweeper retries it")]
    private static partial void LogForgetDeferred(ILogger logger, Exception exception, Guid reservationId, int home);
}
