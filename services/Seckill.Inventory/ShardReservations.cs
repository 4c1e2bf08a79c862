using System.Globalization;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Seckill.Inventory;

/// <summary>
/// Patent step S4 against the shards: reserve one unit for a buyer, undo it, read its token.
/// The buyer's marker always lives on the buyer's home shard; that single key is what keeps a
/// buyer to one reservation across all shards, even for concurrent requests.
/// </summary>
public sealed class ShardReservations(ShardConnections shards, IOptions<ReservationOptions> options, TimeProvider clock)
{
    private readonly ReservationOptions _options = options.Value;

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
            [homeKeys.Stock, homeKeys.Buyer(userId), homeKeys.Token(reservationId), homeKeys.Open],
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
    /// Returns the unit of a reservation that will not be published, frees the buyer and marks the
    /// token failed. Only a pending token is undone, so an undo racing the sweeper returns one unit.
    /// </summary>
    public async Task<bool> UndoAsync(CampaignShards campaign, ReserveOutcome.Reserved reserved, string userId, string reason)
    {
        var home = HomeShard.Of(userId, campaign.ShardCount);
        var released = await ReleaseAsync(campaign.Id, reserved.Shard, reserved.ReservationId, userId, home,
            fromStates: TokenStates.Pending, toState: TokenStates.Failed, reason, returnUnit: true);
        if (released && home != reserved.Shard)
        {
            await ForgetBuyerAsync(campaign.Id, home, userId, reserved.ReservationId);
        }

        return released;
    }

    /// <summary>
    /// pending → claimed before orders are written: one script call per shard for the whole batch,
    /// the shards' calls in parallel. Results are in the order of <paramref name="claims"/>.
    /// </summary>
    public async Task<ClaimResult[]> ClaimAsync(IReadOnlyList<ClaimRequest> claims)
    {
        var results = new ClaimResult[claims.Count];
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await Task.WhenAll(GroupByShard(claims, c => (c.CampaignId, c.Shard)).Select(async group =>
        {
            var keys = new ShardKeys(group.CampaignId, group.Shard);
            RedisKey[] scriptKeys = [keys.Open, keys.Claimed, .. group.Indices.Select(i => keys.Token(claims[i].ReservationId))];
            RedisValue[] args = [now, .. group.Indices.SelectMany(i => new RedisValue[]
            {
                Id(claims[i].ReservationId), claims[i].UserId, claims[i].AcceptedAt.ToUnixTimeMilliseconds(),
            })];
            var answers = (RedisResult[])(await shards.ForShard(group.Shard).ScriptEvaluateAsync(LuaScripts.ClaimBatch, scriptKeys, args))!;
            for (var j = 0; j < group.Indices.Length; j++)
            {
                var answer = (string)answers[j]!;
                results[group.Indices[j]] = answer.StartsWith("confirmed:", StringComparison.Ordinal)
                    ? new ClaimResult(TokenStates.Confirmed, Guid.TryParse(answer["confirmed:".Length..], out var orderId) ? orderId : null)
                    : new ClaimResult(answer, null);
            }
        }));
        return results;
    }

    public async Task<ClaimResult> ClaimAsync(Guid campaignId, int shard, Guid reservationId, string userId, DateTimeOffset acceptedAt) =>
        (await ClaimAsync([new ClaimRequest(campaignId, shard, reservationId, userId, acceptedAt)]))[0];

    /// <summary>claimed → confirmed once the orders' transaction committed; one script call per shard.</summary>
    public async Task ConfirmAsync(IReadOnlyList<Confirmation> confirmations)
    {
        var ttl = (long)_options.EndedTokenLifetime.TotalMilliseconds;
        await Task.WhenAll(GroupByShard(confirmations, c => (c.CampaignId, c.Shard)).Select(group =>
        {
            var keys = new ShardKeys(group.CampaignId, group.Shard);
            RedisKey[] scriptKeys = [keys.Open, keys.Claimed, .. group.Indices.Select(i => keys.Token(confirmations[i].ReservationId))];
            RedisValue[] args = [ttl, .. group.Indices.SelectMany(i => new RedisValue[]
            {
                Id(confirmations[i].ReservationId), confirmations[i].OrderId.ToString("D"),
            })];
            return shards.ForShard(group.Shard).ScriptEvaluateAsync(LuaScripts.ConfirmBatch, scriptKeys, args);
        }));
    }

    /// <summary>
    /// Compensation: the order for this reservation will never be written. The token ends failed,
    /// the unit goes back to the shard it came from (unless <paramref name="returnUnit"/> is false
    /// because the unit never existed), and the buyer's marker is cleared so they may try again.
    /// Repeating it returns no second unit: only the first release finds the token pending or claimed.
    /// </summary>
    public async Task<ReturnOutcome> ReturnAsync(Guid campaignId, int shard, Guid reservationId, string userId, string reason, bool returnUnit)
    {
        var token = await ReadTokenAsync(campaignId, shard, reservationId);
        if (token is null)
        {
            return ReturnOutcome.Missing;
        }

        var released = await ReleaseAsync(campaignId, shard, reservationId, userId, token.HomeShard,
            fromStates: $"{TokenStates.Pending},{TokenStates.Claimed}", toState: TokenStates.Failed, reason, returnUnit);
        // A home shard of -1 marks a token re-created after its Redis server lost it; the marker went with it.
        if (token.HomeShard >= 0 && token.HomeShard != shard && (released || token.State is TokenStates.Failed or TokenStates.Expired))
        {
            // Also on a repeat: the first attempt may have died between the two shards.
            await ForgetBuyerAsync(campaignId, token.HomeShard, userId, reservationId);
        }

        return released ? ReturnOutcome.Released : token.State == TokenStates.Confirmed ? ReturnOutcome.AlreadyConfirmed : ReturnOutcome.AlreadyEnded;
    }

    /// <summary>
    /// The sweeper's step for one shard: tokens still pending after <paramref name="acceptedBefore"/>
    /// become expired, their units go back and their buyers are freed. Claimed tokens are in another
    /// set and never expired: a worker is writing their order. Returns how many tokens it examined.
    /// </summary>
    public async Task<int> ExpireOverdueAsync(Guid campaignId, int shard, DateTimeOffset acceptedBefore, int limit)
    {
        var keys = new ShardKeys(campaignId, shard);
        var due = await shards.ForShard(shard).SortedSetRangeByScoreAsync(
            keys.Open, double.NegativeInfinity, acceptedBefore.ToUnixTimeMilliseconds(), take: limit);
        foreach (var member in due)
        {
            var reservationId = Guid.ParseExact((string)member!, "N");
            var token = await ReadTokenAsync(campaignId, shard, reservationId);
            if (token is null)
            {
                await shards.ForShard(shard).SortedSetRemoveAsync(keys.Open, member);
                continue;
            }

            var released = await ReleaseAsync(campaignId, shard, reservationId, token.UserId, token.HomeShard,
                fromStates: TokenStates.Pending, toState: TokenStates.Expired, reason: TokenStates.Expired, returnUnit: true);
            if (released && token.HomeShard >= 0 && token.HomeShard != shard)
            {
                await ForgetBuyerAsync(campaignId, token.HomeShard, token.UserId, reservationId);
            }
        }

        return due.Length;
    }

    public async Task<ReservationToken?> ReadTokenAsync(Guid campaignId, int shard, Guid reservationId)
    {
        var fields = await shards.ForShard(shard).HashGetAllAsync(new ShardKeys(campaignId, shard).Token(reservationId));
        if (fields.Length == 0)
        {
            return null;
        }

        var map = fields.ToDictionary(f => (string)f.Name!, f => (string?)f.Value);
        return new ReservationToken(
            map.GetValueOrDefault("s") ?? TokenStates.Pending,
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
                [keys.Stock, keys.Token(reservationId), keys.Open],
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
            await ReleaseAsync(campaign.Id, shard, reservationId, userId, home, TokenStates.Pending, TokenStates.Failed, "hold-expired", returnUnit: true);
            return new ReserveOutcome.HoldLost();
        }

        await SettleMarkerAsync(home, homeKeys.Buyer(userId), holdMarker, "");
        return new ReserveOutcome.SoldOut();
    }

    private async Task<bool> ReleaseAsync(Guid campaignId, int shard, Guid reservationId, string userId, int home,
        string fromStates, string toState, string reason, bool returnUnit)
    {
        var keys = new ShardKeys(campaignId, shard);
        RedisKey[] scriptKeys = shard == home
            ? [keys.Token(reservationId), keys.Stock, keys.Open, keys.Claimed, keys.Failed, keys.Buyer(userId)]
            : [keys.Token(reservationId), keys.Stock, keys.Open, keys.Claimed, keys.Failed];
        var result = (string?)await shards.ForShard(shard).ScriptEvaluateAsync(
            LuaScripts.Release,
            scriptKeys,
            [Id(reservationId), fromStates, toState, reason, returnUnit ? 1 : 0, (long)_options.EndedTokenLifetime.TotalMilliseconds]);
        return result == "released";
    }

    private async Task ForgetBuyerAsync(Guid campaignId, int home, string userId, Guid reservationId) =>
        await shards.ForShard(home).ScriptEvaluateAsync(
            LuaScripts.ForgetBuyer, [new ShardKeys(campaignId, home).Buyer(userId)], [Id(reservationId)]);

    private async Task<bool> SettleMarkerAsync(int home, RedisKey marker, string expected, string replacement) =>
        (long)await shards.ForShard(home).ScriptEvaluateAsync(LuaScripts.SettleMarker, [marker], [expected, replacement]) == 1;

    private static ReserveOutcome.AlreadyHeld Held(string marker)
    {
        var separator = marker.IndexOf('|', StringComparison.Ordinal);
        var idPart = marker[..separator];
        var key = marker[(separator + 1)..];
        return idPart.StartsWith('~')
            ? new ReserveOutcome.AlreadyHeld(null, null)
            : new ReserveOutcome.AlreadyHeld(Guid.ParseExact(idPart, "N"), key.Length == 0 ? null : key);
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
}
