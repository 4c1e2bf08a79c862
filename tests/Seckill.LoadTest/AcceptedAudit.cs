using System.Buffers.Binary;
using System.Globalization;

namespace Seckill.LoadTest;

/// <summary>
/// How the run's 202 answers ended, read back per reservation: its order in PostgreSQL, or, for the few
/// without one, its token on the shard the reservation id names.
/// </summary>
/// <param name="AcceptedAnswers">202 answers received.</param>
/// <param name="Reservations">Distinct reservation ids those answers named.</param>
/// <param name="WithoutReservationId">202 answers that named no reservation: nothing can vouch for them.</param>
/// <param name="Ordered">Reservations with an order.</param>
/// <param name="Refused">Reservations without an order whose token records an explicit refusal.</param>
/// <param name="Unaccounted">Reservations neither ordered nor refused: a lost purchase.</param>
/// <param name="OrdersWithoutA202">Orders of this run whose reservation was never seen in a 202 here, e.g. a request that timed out client-side but was written.</param>
public sealed record AcceptedAudit(
    long AcceptedAnswers,
    long Reservations,
    long WithoutReservationId,
    long Ordered,
    long Refused,
    IReadOnlyDictionary<string, long> RefusedByReason,
    long Unaccounted,
    IReadOnlyDictionary<string, long> UnaccountedByOutcome,
    IReadOnlyList<Guid> UnaccountedExamples,
    long OrdersWithoutA202,
    IReadOnlyList<Guid> OrdersWithoutA202Examples)
{
    /// <summary>
    /// Reasons for which a 202 may end without an order: the real inventory ran out, or the write was refused
    /// for that buyer. Anything else (expired by the sweeper, broker-unavailable, dead-lettered, …) is a
    /// purchase the pipeline lost after promising it. A payment that expired is not among them: its order
    /// stays, as payment-expired, so such a reservation is counted as ordered.
    /// </summary>
    public static readonly IReadOnlySet<string> RefusalReasons =
        new HashSet<string>(["write-failed", "duplicate-buyer", "sold-out-in-database"], StringComparer.Ordinal);

    private const int Examples = 5;

    public bool Passed => WithoutReservationId == 0 && Reservations == Ordered + Refused;

    /// <summary>"2000 accepted = 2000 orders + 0 refused", or the mismatch with what the lost ones ended as.</summary>
    public string Detail
    {
        get
        {
            var accepted = Reservations == AcceptedAnswers
                ? Format($"{Reservations} accepted")
                : Format($"{Reservations} reservations from {AcceptedAnswers} accepted");
            var refused = Refused == 0 ? "0 refused" : Format($"{Refused} refused ({Breakdown(RefusedByReason)})");
            var detail = Reservations == Ordered + Refused
                ? Format($"{accepted} = {Ordered} orders + {refused}")
                : Format($"{accepted} ≠ {Ordered} orders + {refused}: {Unaccounted} unaccounted ({Breakdown(UnaccountedByOutcome)}), e.g. {string.Join(", ", UnaccountedExamples)}");
            return WithoutReservationId == 0 ? detail : Format($"{detail}; {WithoutReservationId} 202 answers named no reservation");
        }
    }

    public static async Task<AcceptedAudit> ReadAsync(
        StoreProbe probe, Guid campaignId, int shardCount, AnswerRecord[] answers, IReadOnlySet<Guid> ordersBefore, CancellationToken cancellationToken)
    {
        var accepted = answers.Where(a => a.Status == 202).ToArray();
        var reservations = accepted.Select(a => a.ReservationId).Where(id => id != Guid.Empty).ToHashSet();
        var orders = await probe.OrderReservationIdsAsync(campaignId, cancellationToken);
        var withoutOrder = reservations.Where(id => !orders.Contains(id)).ToArray();

        var onShards = new List<(Guid Id, int Shard)>(withoutOrder.Length);
        foreach (var id in withoutOrder)
        {
            if (TryDecodeShard(id, out var shard) && shard < shardCount)
            {
                onShards.Add((id, shard));
            }
        }

        var tokens = await probe.ReadTokensAsync(campaignId, onShards);
        // Read after the tokens: an order committed between the two reads (its token confirmed meanwhile)
        // is then found, instead of passing for a lost purchase.
        var lateOrders = await probe.OrderReservationIdsAmongAsync(campaignId, withoutOrder, cancellationToken);
        orders.UnionWith(lateOrders);

        var refused = new Dictionary<string, long>(StringComparer.Ordinal);
        var unaccounted = new List<(Guid Id, string Outcome)>();
        foreach (var id in withoutOrder)
        {
            if (lateOrders.Contains(id))
            {
                continue;
            }

            if (!tokens.TryGetValue(id, out var token))
            {
                unaccounted.Add((id, "id names no shard of the campaign"));
            }
            else if (token is { State: "failed", Reason: { } reason } && RefusalReasons.Contains(reason))
            {
                refused[reason] = refused.GetValueOrDefault(reason) + 1;
            }
            else
            {
                unaccounted.Add((id, OutcomeOf(token)));
            }
        }

        var notSeen = orders.Where(id => !reservations.Contains(id) && !ordersBefore.Contains(id)).ToArray();
        return new AcceptedAudit(
            accepted.LongLength,
            reservations.Count,
            accepted.LongCount(a => a.ReservationId == Guid.Empty),
            reservations.LongCount(orders.Contains),
            refused.Values.Sum(),
            refused,
            unaccounted.Count,
            unaccounted.GroupBy(u => u.Outcome).ToDictionary(g => g.Key, g => g.LongCount(), StringComparer.Ordinal),
            [.. unaccounted.Take(Examples).Select(u => u.Id)],
            notSeen.LongLength,
            [.. notSeen.Take(Examples)]);
    }

    /// <summary>
    /// The shard a reservation id names. Ids are RFC 9562 version-8 UUIDs, big-endian: campaign number (32 bits) |
    /// shard (16) | version (4) | …; the same layout as Seckill.Inventory's ReservationIds, decoded here so the
    /// load generator depends on the wire format, not on the services' code.
    /// </summary>
    public static bool TryDecodeShard(Guid id, out int shard)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        var campaignNumber = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        shard = BinaryPrimitives.ReadUInt16BigEndian(bytes[4..]);
        return (bytes[6] & 0xF0) == 0x80 && (bytes[8] & 0xC0) == 0x80 && campaignNumber > 0;
    }

    private static string OutcomeOf(TokenView token) => token switch
    {
        { State: null } => "no token",
        { State: "confirmed" } => "confirmed, no order",
        { State: var state, Reason: { } reason } => Format($"{state} ({reason})"),
        { State: var state } => state,
    };

    private static string Breakdown(IReadOnlyDictionary<string, long> counts) =>
        string.Join(", ", counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => Format($"{c.Key} {c.Value}")));

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
