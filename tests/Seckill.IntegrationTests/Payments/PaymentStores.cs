using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Seckill.IntegrationTests.Fixtures;
using Seckill.Inventory;

namespace Seckill.IntegrationTests.Payments;

/// <summary>
/// Payment expiry works on every campaign in the shared database, whichever test's worker runs it. The
/// payment test classes run one at a time, so an expiry worker never outlives the test that owns it
/// while another test's units are in flight through its virtual host, and a test that needs no expiry
/// running (the deadline alone refuses a payment) gets none.
/// </summary>
[CollectionDefinition(Name)]
public sealed class PaymentTests
{
    public const string Name = "payments";
}

/// <summary>An order's row as PostgreSQL holds it, payment columns included.</summary>
public sealed record OrderRow(
    Guid ReservationId,
    Guid OrderId,
    string UserId,
    int Shard,
    string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? PaymentDeadline,
    DateTimeOffset? PaidAt,
    string? PaymentReference,
    DateTimeOffset? ExpiredAt,
    DateTimeOffset? UnitReturnedAt);

/// <summary>What a campaign holds once the pipeline, expiry and compensation have caught up.</summary>
public sealed record PaymentTally(long Paid, long Awaiting, long Expired, RedisSnapshot Redis, IReadOnlyDictionary<Guid, OrderRow> Orders);

public sealed record PaidJson(Guid ReservationId, Guid OrderId, string Status, DateTimeOffset PaidAt);

public static class PaymentStores
{
    /// <summary>
    /// <paramref name="settings"/> plus payment expiry every 100 ms, and a unit not confirmed back within a
    /// second asked for again: what takes a second and half a minute in production takes a blink here.
    /// </summary>
    public static Dictionary<string, string?> QuickExpiry(IReadOnlyDictionary<string, string?> settings) => new(settings)
    {
        ["Seckill:Payments:ExpiryEnabled"] = "true",
        ["Seckill:Payments:ExpiryInterval"] = "00:00:00.100",
        ["Seckill:Payments:UnitReturnTimeout"] = "00:00:01",
    };

    public static async Task<CampaignJson> CreateCampaignAsync(this HttpClient admin, int stock, int shards, int paymentWindow)
    {
        var response = await admin.PostAsJsonAsync("/api/campaigns", new { name = $"pay-{Guid.NewGuid():N}", stock, shards, paymentWindow });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CampaignJson>())!;
    }

    public static async Task<Dictionary<Guid, OrderRow>> OrderRowsAsync(this PipelineFixture fixture, Guid campaignId)
    {
        await using var command = fixture.Database.CreateCommand(
            """
            SELECT reservation_id, id, user_id, shard, status, created_at, payment_deadline, paid_at, payment_reference, expired_at, unit_returned_at
            FROM orders WHERE campaign_id = $1
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = campaignId });
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<Guid, OrderRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetGuid(0), new OrderRow(
                reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetInt32(3), reader.GetString(4),
                reader.GetFieldValue<DateTimeOffset>(5), NullableTime(reader, 6), NullableTime(reader, 7),
                reader.IsDBNull(8) ? null : reader.GetString(8), NullableTime(reader, 9), NullableTime(reader, 10)));
        }

        return rows;
    }

    public static async Task<OrderRow> OrderRowAsync(this PipelineFixture fixture, Guid campaignId, Guid reservationId) =>
        (await fixture.OrderRowsAsync(campaignId))[reservationId];

    /// <summary>
    /// Simulated time: the payment window is at least 30 s, so the tests move deadlines in PostgreSQL
    /// instead of waiting, relative to PostgreSQL's clock (the one payment and expiry compare with).
    /// </summary>
    /// <param name="fromNow">an interval PostgreSQL reads, e.g. <c>-1 second</c> or <c>800 milliseconds</c>.</param>
    public static async Task<DateTimeOffset> MoveDeadlinesAsync(this PipelineFixture fixture, Guid campaignId, string fromNow, IReadOnlyCollection<Guid>? reservations = null)
    {
        await using var command = fixture.Database.CreateCommand(
            """
            UPDATE orders SET payment_deadline = now() + $2::interval
            WHERE campaign_id = $1 AND status = 'awaiting-payment' AND ($3::uuid[] IS NULL OR reservation_id = ANY($3))
            RETURNING payment_deadline
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = campaignId });
        command.Parameters.Add(new NpgsqlParameter { Value = fromNow });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)reservations?.ToArray() ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Uuid });
        await using var reader = await command.ExecuteReaderAsync();
        var moved = new List<DateTimeOffset>();
        while (await reader.ReadAsync())
        {
            moved.Add(reader.GetFieldValue<DateTimeOffset>(0));
        }

        Assert.Equal(reservations?.Count ?? moved.Count, moved.Count);
        Assert.NotEmpty(moved);
        return moved[0];
    }

    /// <summary>Waits until the campaign has <paramref name="count"/> orders in PostgreSQL.</summary>
    public static async Task WaitForOrdersAsync(this PipelineFixture fixture, Guid campaignId, int count, TimeSpan? timeout = null)
    {
        var written = await Waiting.UntilAsync(
            async () => await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1", campaignId) >= count,
            timeout ?? TimeSpan.FromSeconds(60));
        Assert.True(written, $"only {await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1", campaignId)} of {count} orders were written");
    }

    /// <summary>
    /// Waits until every token is final, no order is still awaiting payment past its deadline and every
    /// expired order's unit is confirmed back; then proves the widened invariant from the stores, exactly:
    /// stock = paid + awaiting + Σ shard stock, sold = paid + awaiting (I1: never above the stock), each
    /// paid or awaiting order's token confirmed, each expired order's token expired with its unit back
    /// once, one order per buyer, and every buyer with an order still marked (an expired buyer does not
    /// buy again). The campaign view shows the same counts.
    /// </summary>
    public static async Task<PaymentTally> AssertSettledAsync(this PipelineFixture fixture, Guid campaignId, int shards, int stock, TimeSpan? timeout = null)
    {
        var settled = await Waiting.UntilAsync(async () =>
            await OpenTokensAsync(fixture, campaignId, shards) == 0
            && await fixture.CountAsync(
                """
                SELECT count(*) FROM orders WHERE campaign_id = $1
                  AND ((status = 'awaiting-payment' AND payment_deadline <= now()) OR (status = 'payment-expired' AND unit_returned_at IS NULL))
                """, campaignId) == 0,
            timeout ?? TimeSpan.FromSeconds(60));
        var orders = await fixture.OrderRowsAsync(campaignId);
        Assert.True(settled,
            $"not settled: {await OpenTokensAsync(fixture, campaignId, shards)} open tokens, " +
            $"{orders.Values.Count(o => o.Status == "awaiting-payment" && o.PaymentDeadline <= DateTimeOffset.UtcNow)} orders past their deadline, " +
            $"{orders.Values.Count(o => o.Status == "payment-expired" && o.UnitReturnedAt is null)} units owed");

        var sold = await fixture.SoldAsync(campaignId);
        var redis = await RedisSnapshot.TakeAsync(fixture, campaignId, shards);
        var paid = orders.Values.Count(o => o.Status == "paid");
        var awaiting = orders.Values.Count(o => o.Status == "awaiting-payment");
        var expired = orders.Values.Count(o => o.Status == "payment-expired");
        Assert.Equal(orders.Count, paid + awaiting + expired);
        Assert.True(paid + awaiting <= stock, $"I1: {paid} paid and {awaiting} awaiting orders for a stock of {stock}");
        Assert.Equal(paid + awaiting, sold);
        Assert.Equal(stock, paid + awaiting + redis.TotalStock);

        var tokens = redis.ParsedTokens.ToDictionary(t => Guid.ParseExact(t.Key[(t.Key.LastIndexOf(':') + 1)..], "N"), t => t.Fields);
        foreach (var order in orders.Values)
        {
            Assert.True(tokens.TryGetValue(order.ReservationId, out var token), $"the order of {order.ReservationId} has no token");
            Assert.Equal(order.UserId, token["u"]);
            Assert.True(ReservationIds.TryDecode(order.ReservationId, out _, out var shard) && shard == order.Shard);
            if (order.Status == "payment-expired")
            {
                Assert.Equal(("expired", "payment-expired"), (token["s"], token.GetValueOrDefault("r")));
                Assert.NotNull(order.UnitReturnedAt);
                Assert.NotNull(order.ExpiredAt);
                Assert.True(order.ExpiredAt >= order.PaymentDeadline, $"{order.ReservationId} expired at {order.ExpiredAt:O}, before its deadline {order.PaymentDeadline:O}");
                Assert.Null(order.PaidAt);
            }
            else
            {
                Assert.Equal("confirmed", token["s"]);
                Assert.Null(order.ExpiredAt);
            }

            if (order.Status == "paid")
            {
                Assert.True(order.PaidAt < order.PaymentDeadline, $"{order.ReservationId} was paid at {order.PaidAt:O}, not before its deadline {order.PaymentDeadline:O}");
                Assert.NotNull(order.PaymentReference);
            }
        }

        Assert.Equal(paid + awaiting, tokens.Values.Count(t => t["s"] == "confirmed"));
        Assert.Equal(expired, tokens.Values.Count(t => t["s"] == "expired"));
        Assert.Equal(orders.Count, orders.Values.Select(o => o.UserId).Distinct().Count());
        var marked = redis.Markers.Keys.Select(k => k[(k.IndexOf(":buyer:", StringComparison.Ordinal) + ":buyer:".Length)..]).ToHashSet();
        Assert.All(orders.Values, o => Assert.Contains(o.UserId, marked));

        var view = (await fixture.AdminClient().GetFromJsonAsync<CampaignJson>($"/api/campaigns/{campaignId}"))!;
        Assert.Equal(new CountsJson(sold, 0, view.Counts.Failed, awaiting, paid, expired), view.Counts);
        Assert.Equal(redis.TotalStock, view.Shards.Sum(s => s.VirtualStock));
        return new PaymentTally(paid, awaiting, expired, redis, orders);
    }

    public static async Task<long> OpenTokensAsync(PipelineFixture fixture, Guid campaignId, int shards)
    {
        long open = 0;
        for (var shard = 0; shard < shards; shard++)
        {
            open += (long?)await fixture.RedisForShard(shard).StringGetAsync(Stores.ShardKey(campaignId, shard, "pending")) ?? 0;
        }

        return open;
    }

    public static async Task<Dictionary<string, string>> TokenAsync(this PipelineFixture fixture, Guid campaignId, Guid reservationId)
    {
        Assert.True(ReservationIds.TryDecode(reservationId, out _, out var shard));
        var fields = await fixture.RedisForShard(shard).HashGetAllAsync(Stores.ShardKey(campaignId, shard, $"token:{reservationId:N}"));
        return fields.ToDictionary(f => (string)f.Name!, f => (string?)f.Value ?? "");
    }

    /// <summary>The problem's code and one extra member (<c>reason</c>, <c>paymentDeadline</c>) the shared record does not carry.</summary>
    public static async Task<(string Code, string? Extra)> ProblemAsync(this HttpResponseMessage response, string? member = null)
    {
        var problem = await response.ReadProblemAsync();
        if (member is null)
        {
            return (problem.Code, null);
        }

        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (problem.Code, json.RootElement.TryGetProperty(member, out var value) ? value.ToString() : null);
    }

    private static DateTimeOffset? NullableTime(NpgsqlDataReader reader, int column) =>
        reader.IsDBNull(column) ? null : reader.GetFieldValue<DateTimeOffset>(column);
}
