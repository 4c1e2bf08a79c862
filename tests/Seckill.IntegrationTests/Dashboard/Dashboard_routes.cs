using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Dashboard;

public class Dashboard_routes(PipelineFixture fixture)
{
    [Theory]
    [InlineData("/api/dashboard/campaigns", null)]
    [InlineData("/api/dashboard/campaigns", "wrong")]
    [InlineData("/api/campaigns/0190b2a4-0000-7000-8000-000000000000/live", null)]
    [InlineData("/api/campaigns/not-a-guid/live", "wrong")]
    public async Task Refuse_a_missing_or_wrong_admin_key(string path, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Add("X-Admin-Key", key);
        }

        var response = await fixture.AnonymousClient().SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("unauthorized", (await response.ReadProblemAsync()).Code);
    }

    [Fact]
    public async Task Answer_a_bad_or_unknown_campaign_with_a_problem()
    {
        var admin = fixture.AdminClient();

        var bad = await admin.GetAsync("/api/campaigns/not-a-guid/live", TestContext.Current.CancellationToken);
        var unknown = await admin.GetAsync($"/api/campaigns/{Guid.NewGuid()}/live", TestContext.Current.CancellationToken);

        Assert.Equal("invalid-request", (await bad.ReadProblemAsync()).Code);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("not-found", (await unknown.ReadProblemAsync()).Code);
    }

    [Fact]
    public async Task List_the_campaign_and_show_it_live_with_the_queue_and_the_server_time()
    {
        var campaign = await fixture.CreateCampaignAsync(stock: 10, shards: 2);
        var admin = fixture.AdminClient();
        await (await fixture.AnonymousClient().BuyAsync(campaign.Id, "dashboard-route-buyer")).AcceptedReservationAsync();

        var list = await admin.GetFromJsonAsync<JsonElement>("/api/dashboard/campaigns", TestContext.Current.CancellationToken);
        var before = DateTimeOffset.UtcNow;
        var live = await admin.GetFromJsonAsync<JsonElement>($"/api/campaigns/{campaign.Id}/live", TestContext.Current.CancellationToken);

        var listed = list.EnumerateArray().Single(c => c.GetProperty("id").GetGuid() == campaign.Id);
        Assert.Equal((campaign.Name, 10), (listed.GetProperty("name").GetString(), listed.GetProperty("stock").GetInt32()));
        var view = live.GetProperty("campaign");
        Assert.Equal(campaign.Name, view.GetProperty("name").GetString());
        Assert.Equal(9, view.GetProperty("shards").EnumerateArray().Sum(s => s.GetProperty("virtualStock").GetInt64()));
        var counts = view.GetProperty("counts");
        Assert.Equal(1, counts.GetProperty("confirmed").GetInt64() + counts.GetProperty("pending").GetInt64());
        Assert.InRange(live.GetProperty("at").GetDateTimeOffset(), before.AddSeconds(-5), DateTimeOffset.UtcNow.AddSeconds(5));
        // The servers the tests run against all have the management plugin; only its absence makes this null.
        var queue = live.GetProperty("queue");
        Assert.Equal(JsonValueKind.Object, queue.ValueKind);
        Assert.True(queue.GetProperty("ready").GetInt64() >= 0 && queue.GetProperty("unacked").GetInt64() >= 0);
    }

    [Fact]
    public async Task Serve_the_page_without_a_key_and_keep_unknown_paths_problems()
    {
        var client = fixture.Intake.CreateClient(new() { AllowAutoRedirect = false });

        var bare = await client.GetAsync("/dashboard", TestContext.Current.CancellationToken);
        var page = await client.GetAsync("/dashboard/", TestContext.Current.CancellationToken);
        var script = await client.GetAsync("/dashboard/app.js", TestContext.Current.CancellationToken);
        var missing = await client.GetAsync("/dashboard/nothing-here.js", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.MovedPermanently, bare.StatusCode);
        Assert.Equal("/dashboard/", new Uri(client.BaseAddress!, bare.Headers.Location!).AbsolutePath);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Seckill dashboard", await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("not-found", (await missing.ReadProblemAsync()).Code);
    }
}
