using System.Net;
using System.Text;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Campaigns;

/// <summary>I5: bad input gets a 4xx problem naming what is wrong, and writes nothing to PostgreSQL or Redis.</summary>
public class Bad_campaign_input(PipelineFixture fixture)
{
    private const string Json = "application/json";

    /// <summary>{name} in a body is replaced by a unique marker, so the test can prove no row with it was written.</summary>
    public static TheoryData<string, string, string?, int, string, string?> Cases => new()
    {
        { "malformed JSON", Json, """{"name":"{name}","stock":""", 400, "invalid-request", "body" },
        { "not an object", Json, """[1,2,3]""", 400, "invalid-request", "body" },
        { "null body", Json, "null", 400, "invalid-request", "body" },
        { "empty body", Json, null, 400, "invalid-request", "body" },
        { "wrong content type", "text/plain", """{"name":"{name}","stock":5}""", 415, "unsupported-media-type", null },
        { "form content type", "application/x-www-form-urlencoded", "name={name}&stock=5", 415, "unsupported-media-type", null },
        { "missing stock", Json, """{"name":"{name}"}""", 400, "invalid-request", "stock" },
        { "zero stock", Json, """{"name":"{name}","stock":0}""", 400, "invalid-request", "stock" },
        { "negative stock", Json, """{"name":"{name}","stock":-5}""", 400, "invalid-request", "stock" },
        { "stock over ten million", Json, """{"name":"{name}","stock":10000001}""", 400, "invalid-request", "stock" },
        { "stock far beyond any integer", Json, """{"name":"{name}","stock":1e40}""", 400, "invalid-request", "stock" },
        { "fractional stock", Json, """{"name":"{name}","stock":2.5}""", 400, "invalid-request", "stock" },
        { "stock as text", Json, """{"name":"{name}","stock":"5"}""", 400, "invalid-request", "stock" },
        { "missing name", Json, """{"stock":5}""", 400, "invalid-request", "name" },
        { "blank name", Json, """{"name":"   ","stock":5}""", 400, "invalid-request", "name" },
        { "end before start", Json, """{"name":"{name}","stock":5,"startsAt":"2030-01-02T00:00:00Z","endsAt":"2030-01-01T00:00:00Z"}""", 400, "invalid-request", "endsAt" },
        { "end equal to start", Json, """{"name":"{name}","stock":5,"startsAt":"2030-01-02T00:00:00Z","endsAt":"2030-01-02T00:00:00Z"}""", 400, "invalid-request", "endsAt" },
        { "unreadable date", Json, """{"name":"{name}","stock":5,"startsAt":"next tuesday"}""", 400, "invalid-request", "startsAt" },
        { "end already past, no start", Json, """{"name":"{name}","stock":5,"endsAt":"2020-01-01T00:00:00Z"}""", 400, "invalid-request", "endsAt" },
        { "whole window in the past", Json, """{"name":"{name}","stock":5,"startsAt":"2019-01-01T00:00:00Z","endsAt":"2020-01-01T00:00:00Z"}""", 400, "invalid-request", "endsAt" },
        { "end one second ago", Json, """{"name":"{name}","stock":5,"endsAt":"{now-1s}"}""", 400, "invalid-request", "endsAt" },
        { "start without an offset", Json, """{"name":"{name}","stock":5,"startsAt":"2030-01-01T00:00:00"}""", 400, "invalid-request", "startsAt" },
        { "end without an offset", Json, """{"name":"{name}","stock":5,"endsAt":"2030-01-01T00:00:00"}""", 400, "invalid-request", "endsAt" },
        { "date without a time", Json, """{"name":"{name}","stock":5,"startsAt":"2030-01-01"}""", 400, "invalid-request", "startsAt" },
        { "start as a number", Json, """{"name":"{name}","stock":5,"startsAt":1893456000}""", 400, "invalid-request", "startsAt" },
        { "impossible date with an offset", Json, """{"name":"{name}","stock":5,"startsAt":"2030-02-30T00:00:00Z"}""", 400, "invalid-request", "startsAt" },
        { "zero shards", Json, """{"name":"{name}","stock":5,"shards":0}""", 400, "invalid-request", "shards" },
        { "too many shards", Json, """{"name":"{name}","stock":5,"shards":1025}""", 400, "invalid-request", "shards" },
        { "unknown field", Json, """{"name":"{name}","stock":5,"shard":2}""", 400, "invalid-request", "shard" },
        { "payment window under 30 s", Json, """{"name":"{name}","stock":5,"paymentWindow":29}""", 400, "invalid-request", "paymentWindow" },
        { "payment window over a day", Json, """{"name":"{name}","stock":5,"paymentWindow":86401}""", 400, "invalid-request", "paymentWindow" },
        { "payment window as text", Json, """{"name":"{name}","stock":5,"paymentWindow":"600"}""", 400, "invalid-request", "paymentWindow" },
        { "negative payment window", Json, """{"name":"{name}","stock":5,"paymentWindow":-1}""", 400, "invalid-request", "paymentWindow" },
        { "payment window beyond any int", Json, """{"name":"{name}","stock":5,"paymentWindow":1e10}""", 400, "invalid-request", "paymentWindow" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Is_refused_and_writes_nothing(string why, string contentType, string? body, int status, string code, string? field)
    {
        var marker = $"bad-{Guid.NewGuid():N}";
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/campaigns");
        if (body is not null)
        {
            var text = body.Replace("{name}", marker, StringComparison.Ordinal)
                .Replace("{now-1s}", DateTimeOffset.UtcNow.AddSeconds(-1).ToString("O", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
            request.Content = new StringContent(text, Encoding.UTF8);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }

        var response = await fixture.AdminClient().SendAsync(request, TestContext.Current.CancellationToken);

        Assert.True(status == (int)response.StatusCode, $"{why}: expected {status}, got {(int)response.StatusCode}");
        var problem = await response.ReadProblemAsync();
        Assert.Equal(code, problem.Code);
        if (field is not null)
        {
            Assert.True(problem.Errors?.ContainsKey(field) == true, $"{why}: the problem must name '{field}'");
        }

        Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM campaigns WHERE name = $1", marker));
        await fixture.AssertNoOrphanStockAsync();
    }

    [Fact]
    public async Task An_oversized_body_is_refused_with_413()
    {
        var marker = $"bad-{Guid.NewGuid():N}";
        var body = $$"""{"name":"{{marker}}","stock":5,"padding":"{{new string('x', 64 * 1024)}}"}""";

        var response = await fixture.AdminClient().PostAsync("/api/campaigns", new StringContent(body, Encoding.UTF8, Json), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("body-too-large", (await response.ReadProblemAsync()).Code);
        Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM campaigns WHERE name = $1", marker));
    }

    [Theory]
    [InlineData("not-a-guid")]
    [InlineData("12345")]
    [InlineData("00000000-0000-0000-0000-00000000000g")]
    public async Task A_malformed_id_is_a_400_naming_it(string id)
    {
        var response = await fixture.AdminClient().GetAsync($"/api/campaigns/{id}", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadProblemAsync();
        Assert.True(problem.Errors?.ContainsKey("id"));
    }

    [Fact]
    public async Task An_unknown_id_is_a_404()
    {
        var response = await fixture.AdminClient().GetAsync($"/api/campaigns/{Guid.NewGuid()}", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("not-found", (await response.ReadProblemAsync()).Code);
    }
}
