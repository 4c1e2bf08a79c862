using System.Net.Http.Headers;
using System.Text;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Hostile;

/// <summary>
/// I5 across every route: hundreds of generated malformed requests, each with at least one thing
/// wrong, all answered 4xx application/problem+json, never 5xx; PostgreSQL and Redis exactly as before.
/// </summary>
public class Hostile_input_sweep(PipelineFixture fixture)
{
    internal sealed record Probe(string Method, string Path, string? UserId, string? AdminKey, string? IdempotencyKey, byte[]? Body, string? ContentType)
    {
        public override string ToString() =>
            $"{Method} {Path} user={Show(UserId)} admin={Show(AdminKey)} key={Show(IdempotencyKey)} type={ContentType} body={(Body is null ? "-" : Body.Length > 60 ? $"{Body.Length} bytes" : Encoding.UTF8.GetString(Body))}";

        private static string Show(string? value) => value is null ? "-" : value.Length > 20 ? $"{value.Length} chars" : value;
    }

    [Fact]
    public Task Every_answer_is_a_4xx_problem_and_nothing_changes() =>
        SweepAsync(fixture, fixture.AnonymousClient(), probe => [ToRequest(probe)]);

    /// <summary>
    /// The sweep against <paramref name="client"/>'s server: each probe is sent as the requests
    /// <paramref name="requestsFor"/> makes of it (the gateway's sweep adds tokens and garbage credentials).
    /// </summary>
    /// <param name="refusedByTheParser">
    /// Probes a real HTTP server's parser refuses before any application code runs (a NUL byte in a header is not
    /// HTTP): over a socket Kestrel answers them with a bare 400, which is all that is asked of them.
    /// </param>
    internal static async Task SweepAsync(PipelineFixture fixture, HttpClient client, Func<Probe, IEnumerable<HttpRequestMessage>> requestsFor,
        Func<Probe, bool>? refusedByTheParser = null)
    {
        var campaign = await fixture.CreateCampaignAsync(stock: 5, shards: 2);
        var ended = await fixture.CreateCampaignAsync(stock: 5, shards: 2);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await fixture.AdminClient().PostAsync($"/api/campaigns/{ended.Id}/end", null)).StatusCode);
        var marker = $"hostile-{Guid.NewGuid():N}";
        // One order awaiting payment, which no probe may pay, expire or reveal to another buyer.
        var payer = $"hostile-payer-{Guid.NewGuid():N}";
        var reservation = await (await fixture.AnonymousClient().BuyAsync(campaign.Id, payer)).AcceptedReservationAsync();
        await fixture.AssertDrainedAsync(campaign.Id, 2, 5);
        var number = (int)await fixture.CountAsync("SELECT number FROM campaigns WHERE id = $1", campaign.Id);
        var probes = Generate(campaign.Id, ended.Id, marker, fixture.AdminKey, new PayableOrder(reservation, payer, number)).ToList();
        Assert.True(probes.Count >= 4_000, $"only {probes.Count} probes generated");
        var postgresBefore = (await PostgresSnapshotAsync(fixture, campaign.Id, marker), await PostgresSnapshotAsync(fixture, ended.Id, marker));
        var redisBefore = (await RedisSnapshot.TakeAsync(fixture, campaign.Id, 2), await RedisSnapshot.TakeAsync(fixture, ended.Id, 2));

        var wrong = new List<string>();
        var sent = 0;
        foreach (var probe in probes)
        {
            foreach (var request in requestsFor(probe))
            {
                sent++;
                var response = await client.SendAsync(request);
                var status = (int)response.StatusCode;
                var type = response.Content.Headers.ContentType?.MediaType;
                if (refusedByTheParser?.Invoke(probe) == true)
                {
                    if (status != 400)
                    {
                        wrong.Add($"{status} {type} (expected the parser's 400): {probe}");
                    }
                }
                else if (status is < 400 or >= 500 || type != "application/problem+json")
                {
                    wrong.Add($"{status} {type}: {probe} auth={request.Headers.Authorization?.Scheme ?? "-"}");
                }
                else
                {
                    var problem = await response.ReadProblemAsync();
                    Assert.False(string.IsNullOrEmpty(problem.Code), probe.ToString());
                }
            }
        }

        Assert.True(wrong.Count == 0, $"{wrong.Count} of {sent} answers were not a 4xx problem:\n{string.Join('\n', wrong.Take(30))}");
        Assert.Equal(postgresBefore, (await PostgresSnapshotAsync(fixture, campaign.Id, marker), await PostgresSnapshotAsync(fixture, ended.Id, marker)));
        Assert.True(redisBefore.Item1.SameAs(await RedisSnapshot.TakeAsync(fixture, campaign.Id, 2)), "Redis changed");
        Assert.True(redisBefore.Item2.SameAs(await RedisSnapshot.TakeAsync(fixture, ended.Id, 2)), "Redis of the ended campaign changed");
        await fixture.AssertNoOrphanStockAsync();
        Assert.Equal("awaiting-payment", (await fixture.AnonymousClient().ReservationAsync(reservation, payer))!.Status);
    }

    private static async Task<string> PostgresSnapshotAsync(PipelineFixture fixture, Guid campaignId, string marker)
    {
        await using var command = fixture.Database.CreateCommand(
            "SELECT concat_ws('|', c.name, c.total_stock, c.sold, c.shard_count, c.starts_at, c.ends_at, c.inventory_loaded_at, c.ended_at, c.settled_at, c.archived_at, " +
            "(SELECT count(*) FROM orders o WHERE o.campaign_id = c.id), (SELECT count(*) FROM campaigns m WHERE m.name LIKE $2 || '%'), c.payment_window_seconds, " +
            "(SELECT string_agg(concat_ws(',', o.reservation_id, o.status, o.payment_deadline, o.paid_at, o.payment_reference, o.expired_at, o.unit_returned_at), ';' ORDER BY o.id) " +
            "FROM orders o WHERE o.campaign_id = c.id)) " +
            "FROM campaigns c WHERE c.id = $1");
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = campaignId });
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = marker });
        return (string)(await command.ExecuteScalarAsync())!;
    }

    internal static HttpRequestMessage ToRequest(Probe probe)
    {
        var request = new HttpRequestMessage(new HttpMethod(probe.Method), probe.Path);
        if (probe.UserId is not null)
        {
            request.Headers.TryAddWithoutValidation("X-User-Id", probe.UserId);
        }

        if (probe.AdminKey is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Admin-Key", probe.AdminKey);
        }

        if (probe.IdempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", probe.IdempotencyKey);
        }

        if (probe.Body is not null)
        {
            request.Content = new ByteArrayContent(probe.Body);
            if (probe.ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", probe.ContentType);
            }
        }

        return request;
    }

    /// <summary>The sweep campaign's one order awaiting payment, its buyer, and the campaign's number (to forge reservation ids).</summary>
    private sealed record PayableOrder(Guid Reservation, string Buyer, int CampaignNumber);

    private static IEnumerable<Probe> Generate(Guid campaign, Guid ended, string marker, string adminKey, PayableOrder order)
    {
        const string json = "application/json";
        string[] badUsers = ["", " ", "   ", new string('u', 65), new string('u', 5000), "bad\u0001id", "tab\there", "nul\0id", "käufer", "用户", "😀", "\u007f", "a\u200bb"];
        string[] badIds = ["x", "1", "-1", "..", "%2e%2e", "null", "00000000-0000-0000-0000-00000000000", "{00000000-0000-0000-0000-000000000000}x",
            "not-a-guid-at-all", new string('f', 300), "%20", "%F0%9F%98%80", "DROP%20TABLE%20orders", "<script>"];
        var unknownGuid = Guid.NewGuid().ToString();
        byte[][] badPurchaseBodies =
        [
            "[]"u8.ToArray(), "\"buy\""u8.ToArray(), "42"u8.ToArray(), "null"u8.ToArray(), "true"u8.ToArray(), "{"u8.ToArray(), "{\"a\":}"u8.ToArray(),
            "{'single':'quotes'}"u8.ToArray(), Encoding.UTF8.GetBytes(new string('[', 2000)), [0xff, 0xfe, 0x7b, 0x7d], [0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d],
            Encoding.UTF8.GetBytes("{\"pad\":\"" + new string('x', 8192) + "\"}"), Encoding.UTF8.GetBytes(new string(' ', 2048) + "{}"), "{}{}"u8.ToArray(),
        ];
        string[] badContentTypes = ["text/plain", "application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "image/png", "json"];
        // An empty header value is dropped by HttpClient before it leaves; the intake's check for it is covered by its own code path.
        string[] badKeys = [" ", new string('k', 129), "has space", "ключ", "tab\tkey"];
        string[] badAdminKeys = ["", "wrong", adminKey + "x", adminKey[..^1], new string('k', 10_000), "Bearer " + adminKey];
        byte[][] badCampaignBodies =
        [
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":0}}"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":-1}}"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":10000001}}"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":99999999999999999999999999999}}"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":1e308}}"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":NaN}}"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":\"10\"}}"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":5,\"shards\":0}}"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":5,\"shards\":1025}}"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":5,\"shards\":-2147483649}}"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":5,\"startsAt\":\"2030-01-02T00:00:00Z\",\"endsAt\":\"2030-01-01T00:00:00Z\"}}"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":5,\"startsAt\":\"yesterday\"}}"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":5,\"endsAt\":\"9999-99-99T00:00:00Z\"}}"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":5,\"endsAt\":\"2020-01-01T00:00:00Z\"}}"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":5,\"startsAt\":\"2019-01-01T00:00:00Z\",\"endsAt\":\"2020-01-01T00:00:00Z\"}}"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":5,\"startsAt\":\"2030-01-01T00:00:00\"}}"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":5,\"endsAt\":\"2030-01-01T00:00:00\"}}"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":5,\"extra\":true}}"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":5,\"stock\":6}}"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\u0001\",\"stock\":5}}"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}{new string('n', 300)}\",\"stock\":5}}"),
            Encoding.UTF8.GetBytes("{\"name\":\"\",\"stock\":5}"),
            Encoding.UTF8.GetBytes("{\"name\":null,\"stock\":5}"),
            Encoding.UTF8.GetBytes($"{{\"name\":[\"{marker}\"],\"stock\":5}}"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":{{}}}}"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":5"),
            Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":5,\"pad\":\"{new string('p', 20_000)}\"}}"),
            "[]"u8.ToArray(), "null"u8.ToArray(), [], [0xff, 0xff],
        ];
        var purchase = $"/api/campaigns/{campaign}/purchases";

        foreach (var user in badUsers)
        {
            yield return new Probe("POST", purchase, user, null, null, null, null);
            yield return new Probe("POST", purchase, user, null, null, "{}"u8.ToArray(), json);
            yield return new Probe("POST", purchase, user, null, "k1", null, null);
            foreach (var id in badIds.Take(5))
            {
                yield return new Probe("GET", $"/api/reservations/{id}", user, null, null, null, null);
            }

            yield return new Probe("GET", $"/api/reservations/{unknownGuid}", user, null, null, null, null);
        }

        yield return new Probe("POST", purchase, null, null, null, null, null);
        yield return new Probe("POST", purchase, null, adminKey, null, "{}"u8.ToArray(), json);
        foreach (var body in badPurchaseBodies)
        {
            yield return new Probe("POST", purchase, "sweeper", null, null, body, json);
            yield return new Probe("POST", purchase, "sweeper", null, null, body, "application/json; charset=utf-8");
        }

        foreach (var type in badContentTypes)
        {
            yield return new Probe("POST", purchase, "sweeper", null, null, "{}"u8.ToArray(), type);
        }

        foreach (var key in badKeys)
        {
            yield return new Probe("POST", purchase, "sweeper", null, key, null, null);
        }

        foreach (var id in badIds.Append(unknownGuid))
        {
            yield return new Probe("POST", $"/api/campaigns/{id}/purchases", "sweeper", null, null, null, null);
            yield return new Probe("GET", $"/api/reservations/{id}", "sweeper", null, null, null, null);
            yield return new Probe("GET", $"/api/campaigns/{id}", null, adminKey, null, null, null);
            yield return new Probe("GET", $"/api/campaigns/{id}", null, null, null, null, null);
            yield return new Probe("GET", $"/api/campaigns/{id}/reconciliation", null, adminKey, null, null, null);
            yield return new Probe("POST", $"/api/campaigns/{id}/reconciliation", null, adminKey, null, null, null);
            yield return new Probe("POST", $"/api/campaigns/{id}/end", null, adminKey, null, null, null);
        }

        // Ending what has ended, again and again, and buying from it: refused, and its end time never moves.
        for (var i = 0; i < 5; i++)
        {
            yield return new Probe("POST", $"/api/campaigns/{ended}/end", null, adminKey, null, null, null);
            yield return new Probe("POST", $"/api/campaigns/{ended}/end", null, adminKey, null, "{}"u8.ToArray(), json);
            yield return new Probe("POST", $"/api/campaigns/{ended}/purchases", $"sweeper-{i}", null, null, null, null);
        }

        yield return new Probe("GET", $"/api/campaigns/{campaign}/end", null, adminKey, null, null, null);
        yield return new Probe("PUT", $"/api/campaigns/{campaign}/end", null, adminKey, null, null, null);

        // Unknown ids at volume, on every route that takes one: each a 404, none remembered for good.
        for (var i = 0; i < 1_000; i++)
        {
            var unknown = Guid.NewGuid();
            yield return new Probe("POST", $"/api/campaigns/{unknown}/purchases", $"sweeper-{i}", null, null, null, null);
            yield return new Probe("GET", $"/api/campaigns/{unknown}", null, adminKey, null, null, null);
            yield return new Probe("POST", $"/api/campaigns/{unknown}/end", null, adminKey, null, null, null);
            yield return new Probe("GET", $"/api/reservations/{unknown}", $"sweeper-{i}", null, null, null, null);
            yield return new Probe("POST", $"/api/reservations/{unknown}/payment", $"sweeper-{i}", null, null, "{\"paymentReference\":\"probe\"}"u8.ToArray(), "application/json");
        }

        foreach (var body in badCampaignBodies)
        {
            yield return new Probe("POST", "/api/campaigns", null, adminKey, null, body, json);
            yield return new Probe("POST", "/api/campaigns", null, adminKey, null, body, "text/plain");
            yield return new Probe("POST", "/api/campaigns", null, null, null, body, json);
        }

        var validCampaign = Encoding.UTF8.GetBytes($"{{\"name\":\"{marker}\",\"stock\":5}}");
        foreach (var key in badAdminKeys)
        {
            yield return new Probe("POST", "/api/campaigns", null, key, null, validCampaign, json);
            yield return new Probe("GET", "/api/campaigns", null, key, null, null, null);
            yield return new Probe("GET", $"/api/campaigns/{campaign}", null, key, null, null, null);
            yield return new Probe("POST", $"/api/campaigns/{campaign}/reconciliation", null, key, null, null, null);
            yield return new Probe("GET", $"/api/campaigns/{campaign}/reconciliation", null, key, null, null, null);
            yield return new Probe("POST", $"/api/campaigns/{campaign}/end", null, key, null, null, null);
        }

        foreach (var key in badKeys)
        {
            yield return new Probe("POST", "/api/campaigns", null, adminKey, key, validCampaign, json);
        }

        foreach (var probe in PaymentProbes(order, badUsers, badIds, unknownGuid, badPurchaseBodies, badContentTypes))
        {
            yield return probe;
        }

        yield return new Probe("DELETE", $"/api/campaigns/{campaign}", null, adminKey, null, null, null);
        yield return new Probe("PUT", $"/api/campaigns/{campaign}", null, adminKey, null, validCampaign, json);
        yield return new Probe("PATCH", $"/api/campaigns/{campaign}", null, adminKey, null, validCampaign, json);
        yield return new Probe("GET", purchase, "sweeper", null, null, null, null);
        yield return new Probe("DELETE", purchase, "sweeper", null, null, null, null);
        yield return new Probe("POST", $"/api/reservations/{unknownGuid}", "sweeper", null, null, "{}"u8.ToArray(), json);
        yield return new Probe("DELETE", $"/api/reservations/{unknownGuid}", "sweeper", null, null, null, null);
        yield return new Probe("GET", "/api/nothing-here", null, null, null, null, null);
        yield return new Probe("GET", "/api/campaigns/a/b/c/d", null, adminKey, null, null, null);
        yield return new Probe("POST", "/api/campaigns/purchases", "sweeper", null, null, null, null);
    }

    /// <summary>
    /// The payment route: every way of sending it wrong to the one order awaiting payment (bad buyer, the
    /// wrong buyer, bad bodies and content types, other methods), and well-formed payments to ids that name
    /// no reservation of this buyer — forged ones of this campaign included.
    /// </summary>
    private static IEnumerable<Probe> PaymentProbes(PayableOrder order, string[] badUsers, string[] badIds, string unknownGuid, byte[][] badPurchaseBodies, string[] badContentTypes)
    {
        const string json = "application/json";
        var valid = "{\"paymentReference\":\"hostile-card\"}"u8.ToArray();
        var payment = $"/api/reservations/{order.Reservation}/payment";
        byte[][] badPaymentBodies =
        [
            "{}"u8.ToArray(), "{\"paymentReference\":\"\"}"u8.ToArray(), "{\"paymentReference\":null}"u8.ToArray(),
            Encoding.UTF8.GetBytes($"{{\"paymentReference\":\"{new string('r', 129)}\"}}"), "{\"paymentReference\":\"a b\"}"u8.ToArray(),
            "{\"paymentReference\":\"zahlung-\u00e4\"}"u8.ToArray(), Encoding.UTF8.GetBytes("{\"paymentReference\":\"k\u00e4rtchen\"}"),
            "{\"paymentReference\":42}"u8.ToArray(), "{\"paymentReference\":true}"u8.ToArray(), "{\"paymentReference\":{}}"u8.ToArray(),
            "{\"paymentReference\":\"ok\",\"amount\":1}"u8.ToArray(), "{\"paymentReference\":\"a\",\"paymentReference\":\"b\"}"u8.ToArray(),
            "{\"PaymentReference\":\"ok\",\"paymentreference\":\"ok\"}"u8.ToArray(), Encoding.UTF8.GetBytes($"{{\"paymentReference\":\"{new string('r', 5000)}\"}}"),
        ];

        yield return new Probe("POST", payment, null, null, null, valid, json);
        yield return new Probe("POST", payment, order.Buyer, null, null, null, null);
        yield return new Probe("POST", payment, $"{order.Buyer}-not", null, null, valid, json);
        yield return new Probe("POST", payment, order.Buyer.ToUpperInvariant(), null, null, valid, json);
        foreach (var user in badUsers)
        {
            yield return new Probe("POST", payment, user, null, null, valid, json);
            yield return new Probe("POST", $"/api/reservations/{unknownGuid}/payment", user, null, null, valid, json);
        }

        foreach (var body in badPurchaseBodies.Concat(badPaymentBodies))
        {
            yield return new Probe("POST", payment, order.Buyer, null, null, body, json);
            yield return new Probe("POST", payment, order.Buyer, null, null, body, "application/json; charset=utf-8");
        }

        foreach (var type in badContentTypes)
        {
            yield return new Probe("POST", payment, order.Buyer, null, null, valid, type);
        }

        foreach (var id in badIds.Append(unknownGuid))
        {
            yield return new Probe("POST", $"/api/reservations/{id}/payment", order.Buyer, null, null, valid, json);
        }

        foreach (var shard in new[] { 0, 1, 2, 1023, ushort.MaxValue })
        {
            yield return new Probe("POST", $"/api/reservations/{Seckill.Inventory.ReservationIds.New(order.CampaignNumber, shard)}/payment", order.Buyer, null, null, valid, json);
        }

        yield return new Probe("POST", $"/api/reservations/{Seckill.Inventory.ReservationIds.New(int.MaxValue, 0)}/payment", order.Buyer, null, null, valid, json);
        yield return new Probe("GET", payment, order.Buyer, null, null, null, null);
        yield return new Probe("PUT", payment, order.Buyer, null, null, valid, json);
        yield return new Probe("DELETE", payment, order.Buyer, null, null, null, null);
        yield return new Probe("POST", $"{payment}/x", order.Buyer, null, null, valid, json);
    }
}
