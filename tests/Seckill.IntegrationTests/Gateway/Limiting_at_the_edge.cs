using System.Net;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Gateway;

/// <summary>
/// Per-buyer and per-address limits at the gateway: 429 <c>rate-limited</c> problem+json with <c>Retry-After</c>,
/// never the rate limiter's default 503, and one buyer's excess never costs another buyer anything.
/// </summary>
public class Limiting_at_the_edge(PipelineFixture fixture)
{
    [Fact]
    public async Task A_buyer_over_their_bucket_gets_429_with_Retry_After_and_other_buyers_are_unaffected()
    {
        const int shards = 2;
        await using var rig = await GatewayRig.StartAsync(fixture, intakes: 1, new Dictionary<string, string?>
        {
            ["Seckill:Gateway:PurchasesPerSecond"] = "1",
            ["Seckill:Gateway:PurchaseBurst"] = "3",
        });
        var campaign = await fixture.CreateCampaignAsync(stock: 10, shards);
        var greedy = $"gw-greedy-{Guid.NewGuid():N}";
        using var client = rig.Client();

        // Twelve at once: the bucket holds three, and no more than one more can drip in meanwhile.
        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ =>
            client.SendAsync(rig.Buyer(HttpMethod.Post, $"/api/campaigns/{campaign.Id}/purchases", greedy))));
        var passed = answers.Count(a => a.StatusCode != HttpStatusCode.TooManyRequests);
        Assert.InRange(passed, 3, 4);
        Assert.Equal(1, answers.Count(a => a.StatusCode == HttpStatusCode.Accepted));
        foreach (var limited in answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests))
        {
            var problem = await limited.ReadProblemAsync();
            Assert.Equal("rate-limited", problem.Code);
            var retryAfter = limited.Headers.RetryAfter?.Delta;
            Assert.NotNull(retryAfter);
            Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
        }

        // Another buyer, in the same second: their own bucket is full.
        var others = await Task.WhenAll(Enumerable.Range(0, 3).Select(i =>
            client.SendAsync(rig.Buyer(HttpMethod.Post, $"/api/campaigns/{campaign.Id}/purchases", $"gw-patient-{i}-{Guid.NewGuid():N}"))));
        Assert.All(others, a => Assert.Equal(HttpStatusCode.Accepted, a.StatusCode));

        // Reading a reservation is not a purchase: not limited by the purchase bucket.
        var reservation = await answers.Single(a => a.StatusCode == HttpStatusCode.Accepted).AcceptedReservationAsync();
        var reads = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            client.SendAsync(rig.Buyer(HttpMethod.Get, $"/api/reservations/{reservation}", greedy))));
        Assert.All(reads, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));

        // The bucket refills: after Retry-After the greedy buyer is heard again (409, they hold a unit).
        await Task.Delay(TimeSpan.FromSeconds(2));
        var later = await client.SendAsync(rig.Buyer(HttpMethod.Post, $"/api/campaigns/{campaign.Id}/purchases", greedy));
        Assert.Equal(HttpStatusCode.Conflict, later.StatusCode);
        await fixture.AssertDrainedAsync(campaign.Id, shards, totalStock: 10);
        Assert.Equal(4, await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1", campaign.Id));
    }

    [Fact]
    public async Task Requests_without_a_valid_token_are_limited_per_address()
    {
        await using var rig = await GatewayRig.StartAsync(fixture, intakes: 1, new Dictionary<string, string?>
        {
            ["Seckill:Gateway:AnonymousPerSecond"] = "5",
        });
        var campaign = await fixture.CreateCampaignAsync(stock: 5, shards: 1);
        using var client = rig.Client();

        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 20; i++)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{campaign.Id}/purchases");
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer forged");
            answers.Add(await client.SendAsync(request));
        }

        Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests, $"{(int)a.StatusCode}"));
        var limited = answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.InRange(limited.Count, 5, 15);
        Assert.Equal("rate-limited", (await limited[0].ReadProblemAsync()).Code);
        Assert.NotNull(limited[0].Headers.RetryAfter?.Delta);

        // A buyer's token does not lift the address window off admin routes (no unlimited guessing of the admin key).
        await Task.Delay(TimeSpan.FromSeconds(1.1));
        var adminAnswers = new List<HttpResponseMessage>();
        for (var i = 0; i < 12; i++)
        {
            var request = rig.Buyer(HttpMethod.Get, "/api/campaigns", $"gw-admin-guesser-{Guid.NewGuid():N}");
            request.Headers.TryAddWithoutValidation("X-Admin-Key", $"guess-{i:D16}");
            adminAnswers.Add(await client.SendAsync(request));
        }

        Assert.Contains(adminAnswers, a => a.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.All(adminAnswers, a => Assert.True(a.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests, $"{(int)a.StatusCode}"));

        // A buyer with a valid token from the same address is in their own bucket, not the address's window.
        var buyer = await client.SendAsync(rig.Buyer(HttpMethod.Post, $"/api/campaigns/{campaign.Id}/purchases", $"gw-valid-{Guid.NewGuid():N}"));
        Assert.Equal(HttpStatusCode.Accepted, buyer.StatusCode);
        // The gateway's own probes are never limited.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        await fixture.AssertDrainedAsync(campaign.Id, 1, totalStock: 5);
    }
}
