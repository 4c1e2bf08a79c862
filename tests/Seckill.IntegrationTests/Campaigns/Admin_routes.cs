using System.Net;
using System.Net.Http.Json;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Campaigns;

public class Admin_routes(PipelineFixture fixture)
{
    public static TheoryData<string, string> Routes => new()
    {
        { "POST", "/api/campaigns" },
        { "GET", "/api/campaigns" },
        { "GET", $"/api/campaigns/{Guid.NewGuid()}" },
        { "GET", "/api/campaigns/not-a-guid" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Refuse_a_missing_key(string method, string path) => await AssertRefusedAsync(method, path, key: null);

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Refuse_a_wrong_key(string method, string path) => await AssertRefusedAsync(method, path, key: fixture.AdminKey + "x");

    [Fact]
    public async Task Refuse_a_prefix_of_the_key() => await AssertRefusedAsync("GET", "/api/campaigns", fixture.AdminKey[..^1]);

    private async Task AssertRefusedAsync(string method, string path, string? key)
    {
        var marker = $"unauthorized-{Guid.NewGuid():N}";
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = JsonContent.Create(new { name = marker, stock = 5 });
        }

        if (key is not null)
        {
            request.Headers.Add("X-Admin-Key", key);
        }

        var response = await fixture.AnonymousClient().SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("unauthorized", (await response.ReadProblemAsync()).Code);
        Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM campaigns WHERE name = $1", marker));
    }
}
