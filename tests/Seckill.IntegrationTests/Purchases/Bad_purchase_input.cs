using System.Net;
using System.Text;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Purchases;

/// <summary>I5 on the buyer routes: a 4xx problem naming what is wrong, and Redis exactly as before.</summary>
public class Bad_purchase_input(PipelineFixture fixture)
{
    private const string Json = "application/json";
    private const string Valid = "valid-buyer";

    /// <summary>why, user id (null = absent), body, content type, idempotency key, expected status, code, field named.</summary>
    public static TheoryData<string, string?, string?, string, string?, int, string, string?> Cases => new()
    {
        { "no user id", null, null, Json, null, 400, "invalid-request", "X-User-Id" },
        { "blank user id", "   ", null, Json, null, 400, "invalid-request", "X-User-Id" },
        { "user id over 64 characters", new string('u', 65), null, Json, null, 400, "invalid-request", "X-User-Id" },
        { "user id with a control character", "bad\u0001user", null, Json, null, 400, "invalid-request", "X-User-Id" },
        { "user id with a tab", "bad\tuser", null, Json, null, 400, "invalid-request", "X-User-Id" },
        { "user id outside ASCII", "käufer", null, Json, null, 400, "invalid-request", "X-User-Id" },
        { "body is an array", Valid, "[]", Json, null, 400, "invalid-request", "body" },
        { "body is a string", Valid, "\"buy\"", Json, null, 400, "invalid-request", "body" },
        { "body is a number", Valid, "42", Json, null, 400, "invalid-request", "body" },
        { "body is null", Valid, "null", Json, null, 400, "invalid-request", "body" },
        { "malformed JSON", Valid, "{\"quantity\":", Json, null, 400, "invalid-request", "body" },
        { "wrong content type", Valid, "{}", "text/plain", null, 415, "unsupported-media-type", null },
        { "oversized body", Valid, "{\"pad\":\"" + new string('x', 4096) + "\"}", Json, null, 413, "body-too-large", null },
        { "idempotency key too long", Valid, null, Json, new string('k', 129), 400, "invalid-request", "Idempotency-Key" },
        { "idempotency key with spaces", Valid, null, Json, "a key", 400, "invalid-request", "Idempotency-Key" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Is_refused_and_changes_nothing(string why, string? userId, string? body, string contentType, string? key, int status, string code, string? field)
    {
        var campaign = await fixture.CreateCampaignAsync(stock: 4, shards: 2);
        var before = await RedisSnapshot.TakeAsync(fixture, campaign.Id, 2);
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{campaign.Id}/purchases");
        if (userId is not null)
        {
            request.Headers.TryAddWithoutValidation("X-User-Id", userId);
        }

        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }

        var response = await fixture.AnonymousClient().SendAsync(request);

        Assert.True(status == (int)response.StatusCode, $"{why}: expected {status}, got {(int)response.StatusCode}");
        var problem = await response.ReadProblemAsync();
        Assert.Equal(code, problem.Code);
        if (field is not null)
        {
            Assert.True(problem.Errors?.ContainsKey(field) == true, $"{why}: the problem must name '{field}'");
        }

        Assert.True(before.SameAs(await RedisSnapshot.TakeAsync(fixture, campaign.Id, 2)), $"{why}: Redis changed");
    }

    [Fact]
    public async Task An_empty_object_body_is_a_purchase()
    {
        var campaign = await fixture.CreateCampaignAsync(stock: 1, shards: 1);
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{campaign.Id}/purchases")
        {
            Content = new StringContent("{}", Encoding.UTF8, Json),
        };
        request.Headers.Add("X-User-Id", "with-body");

        await (await fixture.AnonymousClient().SendAsync(request)).AcceptedReservationAsync();
    }

    [Theory]
    [InlineData("not-a-guid")]
    [InlineData("1234")]
    public async Task A_malformed_campaign_id_is_a_400_naming_it(string id)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{id}/purchases");
        request.Headers.Add("X-User-Id", Valid);

        var response = await fixture.AnonymousClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ReadProblemAsync()).Errors?.ContainsKey("id"));
    }

    [Theory]
    [InlineData(null, "0b8a6c1e-0000-4000-8000-000000000000", 400, "X-User-Id")]
    [InlineData(Valid, "not-a-guid", 400, "id")]
    [InlineData(Valid, "0b8a6c1e-0000-4000-8000-000000000000", 404, null)]
    [InlineData(Valid, "00000001-0000-8000-8000-000000000000", 404, null)]
    public async Task A_bad_reservation_lookup_is_a_4xx_problem(string? userId, string id, int status, string? field)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/reservations/{id}");
        if (userId is not null)
        {
            request.Headers.Add("X-User-Id", userId);
        }

        var response = await fixture.AnonymousClient().SendAsync(request);

        Assert.Equal(status, (int)response.StatusCode);
        var problem = await response.ReadProblemAsync();
        if (field is not null)
        {
            Assert.True(problem.Errors?.ContainsKey(field));
        }
    }
}
