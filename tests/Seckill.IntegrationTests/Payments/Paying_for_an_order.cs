using System.Net;
using System.Net.Http.Json;
using System.Text;
using Seckill.IntegrationTests.Fixtures;
using Seckill.Inventory;

namespace Seckill.IntegrationTests.Payments;

/// <summary>
/// The buyer's side of step S5: an order written awaiting payment is paid once, a repeat with the same
/// reference gets the same answer, and every refusal is the one the order's state calls for — proven
/// from the order's row and the campaign's keys, not only from the answers. No expiry runs here unless a
/// test starts it, so a deadline that has passed is refused by the deadline itself.
/// </summary>
[Collection(PaymentTests.Name)]
public class Paying_for_an_order(PipelineFixture fixture)
{
    [Fact]
    public async Task Pays_once_and_answers_every_repeat_of_the_reference_alike()
    {
        const int stock = 3, shards = 2, window = 45;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        using var worker = fixture.CreateWorker(broker.Settings);
        await worker.StartAsync();
        var campaign = await fixture.AdminClient(intake).CreateCampaignAsync(stock, shards, window);
        Assert.Equal(window, campaign.PaymentWindow);
        var client = intake.CreateClient();
        var buyer = $"payer-{Guid.NewGuid():N}";
        var reservation = await (await client.BuyAsync(campaign.Id, buyer)).AcceptedReservationAsync();
        await fixture.WaitForOrdersAsync(campaign.Id, 1);

        var order = await fixture.OrderRowAsync(campaign.Id, reservation);
        Assert.Equal("awaiting-payment", order.Status);
        Assert.Equal(order.CreatedAt.AddSeconds(window), order.PaymentDeadline);
        var awaiting = (await client.ReservationAsync(reservation, buyer))!;
        Assert.Equal(("awaiting-payment", order.OrderId, order.PaymentDeadline, (DateTimeOffset?)null, (string?)null),
            (awaiting.Status, awaiting.OrderId, awaiting.PaymentDeadline, awaiting.PaidAt, awaiting.Reason));

        // The longest reference, from both ends of the printable range; twenty tabs send it at once.
        var reference = $"!{Guid.NewGuid():N}".PadRight(128, '~');
        var first = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.PayAsync(reservation, buyer, reference)));
        Assert.All(first, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var answers = await Task.WhenAll(first.Select(r => r.Content.ReadFromJsonAsync<PaidJson>()));
        var answer = Assert.Single(answers.Distinct());
        var paid = await fixture.OrderRowAsync(campaign.Id, reservation);
        Assert.Equal(new PaidJson(reservation, order.OrderId, "paid", paid.PaidAt!.Value), answer);
        Assert.Equal(order with { Status = "paid", PaidAt = answer!.PaidAt, PaymentReference = reference }, paid);
        Assert.True(paid.PaidAt < paid.PaymentDeadline);
        Assert.Equal(1, await fixture.SoldAsync(campaign.Id));

        var again = await client.PayAsync(reservation, buyer, reference);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(answer, await again.Content.ReadFromJsonAsync<PaidJson>());

        var other = await client.PayAsync(reservation, buyer, $"other-{Guid.NewGuid():N}");
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
        Assert.Equal("already-paid", (await other.ReadProblemAsync()).Code);
        Assert.Equal(paid, await fixture.OrderRowAsync(campaign.Id, reservation));

        var view = (await client.ReservationAsync(reservation, buyer))!;
        Assert.Equal(("paid", order.OrderId, (DateTimeOffset?)null, answer.PaidAt, (string?)null),
            (view.Status, view.OrderId, view.PaymentDeadline, view.PaidAt, view.Reason));
        var tally = await fixture.AssertSettledAsync(campaign.Id, shards, stock);
        Assert.Equal((1, 0, 0), (tally.Paid, tally.Awaiting, tally.Expired));
        await worker.StopAsync();
    }

    [Fact]
    public async Task Of_references_racing_for_one_order_exactly_one_pays_it()
    {
        const int stock = 2, shards = 2;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        using var worker = fixture.CreateWorker(broker.Settings);
        await worker.StartAsync();
        var campaign = await fixture.AdminClient(intake).CreateCampaignAsync(stock, shards);
        Assert.Equal(600, campaign.PaymentWindow);
        var client = intake.CreateClient();
        var buyer = $"racer-{Guid.NewGuid():N}";
        var reservation = await (await client.BuyAsync(campaign.Id, buyer)).AcceptedReservationAsync();
        await fixture.WaitForOrdersAsync(campaign.Id, 1);
        var order = await fixture.OrderRowAsync(campaign.Id, reservation);
        Assert.Equal(order.CreatedAt.AddSeconds(600), order.PaymentDeadline);

        var references = Enumerable.Range(0, 12).Select(i => $"card-{i}-{Guid.NewGuid():N}").ToList();
        var responses = await Task.WhenAll(references.Select(r => client.PayAsync(reservation, buyer, r)));

        var winner = Assert.Single(responses.Zip(references), p => p.First.StatusCode == HttpStatusCode.OK);
        foreach (var loser in responses.Where(r => r != winner.First))
        {
            Assert.Equal(HttpStatusCode.Conflict, loser.StatusCode);
            Assert.Equal("already-paid", (await loser.ReadProblemAsync()).Code);
        }

        var paid = await fixture.OrderRowAsync(campaign.Id, reservation);
        Assert.Equal(("paid", winner.Second), (paid.Status, paid.PaymentReference));
        Assert.Equal(paid.PaidAt, (await winner.First.Content.ReadFromJsonAsync<PaidJson>())!.PaidAt);
        await fixture.AssertSettledAsync(campaign.Id, shards, stock);
        await worker.StopAsync();
    }

    [Fact]
    public async Task Before_its_order_is_written_a_payment_is_not_ready_and_changes_nothing()
    {
        const int stock = 2, shards = 2;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        var campaign = await fixture.AdminClient(intake).CreateCampaignAsync(stock, shards);
        var client = intake.CreateClient();
        var buyer = $"early-{Guid.NewGuid():N}";
        // No worker yet: the purchase waits in its queue.
        var reservation = await (await client.BuyAsync(campaign.Id, buyer)).AcceptedReservationAsync();
        var before = await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards);

        var early = await client.PayAsync(reservation, buyer, "too-soon");
        Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
        Assert.Equal("not-ready", (await early.ReadProblemAsync()).Code);
        Assert.Equal(TimeSpan.FromSeconds(1), early.Headers.RetryAfter?.Delta);
        var stranger = await client.PayAsync(reservation, $"stranger-{Guid.NewGuid():N}", "too-soon");
        Assert.Equal(HttpStatusCode.NotFound, stranger.StatusCode);
        Assert.Equal("not-found", (await stranger.ReadProblemAsync()).Code);
        Assert.Equal("pending", (await client.ReservationAsync(reservation, buyer))!.Status);
        Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1", campaign.Id));
        Assert.True(before.SameAs(await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards)), "a payment that was not ready changed Redis");

        using var worker = fixture.CreateWorker(broker.Settings);
        await worker.StartAsync();
        await fixture.WaitForOrdersAsync(campaign.Id, 1);
        var paid = await client.PayAsync(reservation, buyer, "in-time");
        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        Assert.Equal(("paid", "in-time"), ((await fixture.OrderRowAsync(campaign.Id, reservation)).Status, (await fixture.OrderRowAsync(campaign.Id, reservation)).PaymentReference));
        var tally = await fixture.AssertSettledAsync(campaign.Id, shards, stock);
        Assert.Equal((1, 0, 0), (tally.Paid, tally.Awaiting, tally.Expired));
        await worker.StopAsync();
    }

    [Fact]
    public async Task Past_the_deadline_is_refused_before_expiry_ran_and_after_it()
    {
        const int stock = 2, shards = 2;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        using var worker = fixture.CreateWorker(broker.Settings);
        await worker.StartAsync();
        var campaign = await fixture.AdminClient(intake).CreateCampaignAsync(stock, shards);
        var client = intake.CreateClient();
        var buyer = $"late-{Guid.NewGuid():N}";
        var reservation = await (await client.BuyAsync(campaign.Id, buyer)).AcceptedReservationAsync();
        await fixture.WaitForOrdersAsync(campaign.Id, 1);
        var deadline = await fixture.MoveDeadlinesAsync(campaign.Id, "-1 second", [reservation]);

        // No worker here expires anything: the deadline, not the job, refuses the payment.
        var late = await client.PayAsync(reservation, buyer, "late-card");
        Assert.Equal(HttpStatusCode.Gone, late.StatusCode);
        var (code, shown) = await late.ProblemAsync("paymentDeadline");
        Assert.Equal("payment-expired", code);
        Assert.Equal(deadline, DateTimeOffset.Parse(shown!, System.Globalization.CultureInfo.InvariantCulture));
        var refused = await fixture.OrderRowAsync(campaign.Id, reservation);
        Assert.Equal(("awaiting-payment", (DateTimeOffset?)null, (string?)null), (refused.Status, refused.PaidAt, refused.PaymentReference));
        Assert.Equal(1, await fixture.SoldAsync(campaign.Id));

        using var expiry = fixture.CreateWorker(PaymentStores.QuickExpiry(broker.Settings));
        await expiry.StartAsync();
        var tally = await fixture.AssertSettledAsync(campaign.Id, shards, stock, TimeSpan.FromSeconds(30));
        Assert.Equal((0, 0, 1), (tally.Paid, tally.Awaiting, tally.Expired));

        var after = await client.PayAsync(reservation, buyer, "late-card");
        Assert.Equal(HttpStatusCode.Gone, after.StatusCode);
        Assert.Equal("payment-expired", (await after.ReadProblemAsync()).Code);
        var view = (await client.ReservationAsync(reservation, buyer))!;
        Assert.Equal(("payment-expired", refused.OrderId, "payment-expired", (DateTimeOffset?)null, (DateTimeOffset?)null),
            (view.Status, view.OrderId, view.Reason, view.PaymentDeadline, view.PaidAt));

        // The buyer who let the deadline pass does not buy again, with or without a new key.
        foreach (var key in new string?[] { null, $"retry-{Guid.NewGuid():N}" })
        {
            var again = await client.BuyAsync(campaign.Id, buyer, key);
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
            Assert.Equal("already-purchased", (await again.ReadProblemAsync()).Code);
        }

        Assert.Equal(tally.Redis.Stock, (await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards)).Stock);
        await expiry.StopAsync();
        await worker.StopAsync();
    }

    [Fact]
    public async Task A_failed_reservation_is_gone_with_its_reason()
    {
        const int stock = 1, shards = 1;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        using var worker = fixture.CreateWorker(broker.Settings);
        await worker.StartAsync();
        var campaign = await fixture.AdminClient(intake).CreateCampaignAsync(stock, shards);
        // One unit more in Redis than in PostgreSQL: the real-inventory guard refuses one of two reservations.
        await fixture.RedisForShard(0).StringIncrementAsync(Stores.ShardKey(campaign.Id, 0, "stock"));
        var client = intake.CreateClient();
        var buyers = new[] { $"guarded-a-{Guid.NewGuid():N}", $"guarded-b-{Guid.NewGuid():N}" };
        var reservations = new Dictionary<string, Guid>();
        foreach (var buyer in buyers)
        {
            reservations[buyer] = await (await client.BuyAsync(campaign.Id, buyer)).AcceptedReservationAsync();
        }

        Assert.True(await Waiting.UntilAsync(async () => await PaymentStores.OpenTokensAsync(fixture, campaign.Id, shards) == 0, TimeSpan.FromSeconds(30)));
        var ordered = Assert.Single(await fixture.OrderRowsAsync(campaign.Id)).Value;
        var refusedBuyer = buyers.Single(b => b != ordered.UserId);
        var refused = reservations[refusedBuyer];
        Assert.Equal("failed", (await fixture.TokenAsync(campaign.Id, refused))["s"]);

        var response = await client.PayAsync(refused, refusedBuyer, "nothing-to-pay");
        Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
        Assert.Equal(("reservation-failed", "sold-out-in-database"), await response.ProblemAsync("reason"));
        // Someone else's failed reservation is not found, not explained.
        var stranger = await client.PayAsync(refused, ordered.UserId, "nothing-to-pay");
        Assert.Equal(HttpStatusCode.NotFound, stranger.StatusCode);
        Assert.Equal(ordered, Assert.Single(await fixture.OrderRowsAsync(campaign.Id)).Value);
        Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM orders WHERE reservation_id = $1", refused));
        await worker.StopAsync();
    }

    [Fact]
    public async Task Another_buyers_an_unknown_or_a_malformed_payment_is_refused_and_changes_nothing()
    {
        const int stock = 2, shards = 2;
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.StartIntake(broker.Settings);
        using var worker = fixture.CreateWorker(broker.Settings);
        await worker.StartAsync();
        var campaign = await fixture.AdminClient(intake).CreateCampaignAsync(stock, shards);
        var number = (int)await fixture.CountAsync("SELECT number FROM campaigns WHERE id = $1", campaign.Id);
        var client = intake.CreateClient();
        var buyer = $"owner-{Guid.NewGuid():N}";
        var reservation = await (await client.BuyAsync(campaign.Id, buyer)).AcceptedReservationAsync();
        await fixture.WaitForOrdersAsync(campaign.Id, 1);
        var order = await fixture.OrderRowAsync(campaign.Id, reservation);
        var redis = await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards);

        var notFound = new (Guid Reservation, string User)[]
        {
            (reservation, $"thief-{Guid.NewGuid():N}"),
            (Guid.NewGuid(), buyer),
            (ReservationIds.New(number, 0), buyer),
            (ReservationIds.New(number, 1), buyer),
            (ReservationIds.New(number, shards), buyer),
            (ReservationIds.New(int.MaxValue, 0), buyer),
        };
        foreach (var (id, user) in notFound)
        {
            var response = await client.PayAsync(id, user, "some-card");
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{id} for {user}: {response.StatusCode}");
            Assert.Equal("not-found", (await response.ReadProblemAsync()).Code);
        }

        foreach (var (body, contentType, status, field) in BadBodies())
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"/api/reservations/{reservation}/payment");
            request.Headers.TryAddWithoutValidation("X-User-Id", buyer);
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }

            var response = await client.SendAsync(request);
            var shown = body is null ? "(none)" : Encoding.UTF8.GetString(body[..Math.Min(body.Length, 60)]);
            Assert.True((int)response.StatusCode == status, $"{shown}: expected {status}, got {(int)response.StatusCode}");
            var problem = await response.ReadProblemAsync();
            if (field is not null)
            {
                Assert.True(problem.Errors?.ContainsKey(field) == true, $"{shown}: the problem must name '{field}'");
            }
        }

        foreach (var user in new[] { "", " ", new string('u', 65), "käufer", "tab\tuser" })
        {
            var response = await client.PayAsync(reservation, user, "some-card");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.True((await response.ReadProblemAsync()).Errors?.ContainsKey("X-User-Id"));
        }

        Assert.Equal(order, await fixture.OrderRowAsync(campaign.Id, reservation));
        Assert.True(redis.SameAs(await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards)), "a refused payment changed Redis");
        Assert.Equal(1, await fixture.SoldAsync(campaign.Id));
        Assert.Equal(HttpStatusCode.OK, (await client.PayAsync(reservation, buyer, "the-real-card")).StatusCode);
        await worker.StopAsync();
    }

    [Theory]
    [InlineData(30)]
    [InlineData(86_400)]
    [InlineData(null)]
    public async Task A_campaign_keeps_the_payment_window_it_was_given(int? window)
    {
        var response = await fixture.AdminClient().PostAsJsonAsync("/api/campaigns",
            new { name = $"window-{Guid.NewGuid():N}", stock = 1, shards = 1, paymentWindow = window }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<CampaignJson>(TestContext.Current.CancellationToken))!;

        Assert.Equal(window ?? 600, created.PaymentWindow);
        Assert.Equal(window ?? 600, await fixture.CountAsync("SELECT payment_window_seconds FROM campaigns WHERE id = $1", created.Id));
        var read = await fixture.AdminClient().GetFromJsonAsync<CampaignJson>($"/api/campaigns/{created.Id}", TestContext.Current.CancellationToken);
        Assert.Equal(window ?? 600, read!.PaymentWindow);
        Assert.Equal(new CountsJson(0, 0, 0, 0, 0, 0), read.Counts);
    }

    private static IEnumerable<(byte[]? Body, string ContentType, int Status, string? Field)> BadBodies()
    {
        const string json = "application/json";
        static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
        yield return (null, json, 400, "body");
        yield return (Utf8("{}"), json, 400, "paymentReference");
        yield return (Utf8("""{"paymentReference":""}"""), json, 400, "paymentReference");
        yield return (Utf8("""{"paymentReference":null}"""), json, 400, "paymentReference");
        yield return (Utf8($$"""{"paymentReference":"{{new string('r', 129)}}"}"""), json, 400, "paymentReference");
        yield return (Utf8("""{"paymentReference":"with space"}"""), json, 400, "paymentReference");
        yield return (Utf8("""{"paymentReference":"zahlung-ä"}"""), json, 400, "paymentReference");
        yield return (Utf8("""{"paymentReference":"tab\there"}"""), json, 400, "paymentReference");
        yield return (Utf8("""{"paymentReference":"\u0000"}"""), json, 400, "paymentReference");
        yield return (Utf8("""{"paymentReference":42}"""), json, 400, "paymentReference");
        yield return (Utf8("""{"paymentReference":["a"]}"""), json, 400, "paymentReference");
        yield return (Utf8("""{"paymentReference":"ok","amount":5}"""), json, 400, "amount");
        yield return (Utf8("""{"paymentReference":"a","paymentReference":"b"}"""), json, 400, null);
        yield return (Utf8("[]"), json, 400, "body");
        yield return (Utf8("null"), json, 400, "body");
        yield return (Utf8("""{"paymentReference":"""), json, 400, "body");
        yield return ([0xff, 0xfe, 0x7b, 0x7d], json, 400, "body");
        yield return (Utf8("""{"paymentReference":"ok"}"""), "text/plain", 415, null);
        yield return (Utf8($$"""{"paymentReference":"ok","pad":"{{new string('p', 5000)}}"}"""), json, 413, null);
    }
}
