using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Dashboard;

/// <summary>
/// The page in a real headless Chromium (Debian's <c>chromium</c>; infra/test.sh installs it) against an
/// intake on a real TCP port, during a small sale. The screenshot is kept in
/// <c>bin/Debug/net10.0/TestResults/dashboard/</c> of this project, and attached to the test result.
/// </summary>
public class Watching_a_sale_on_the_dashboard(PipelineFixture fixture)
{
    private const string Chromium = "/usr/bin/chromium";
    private const int Stock = 200;
    private const int Shards = 4;

    public static string ScreenshotDirectory => Path.Combine(AppContext.BaseDirectory, "TestResults", "dashboard");

    [Fact]
    public async Task Shows_the_campaign_and_its_shard_bars_falling_to_zero_with_the_apis_counts()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: apt-get install -y chromium (infra/test.sh does it).");
        var cancellation = TestContext.Current.CancellationToken;
        // A browser needs a real socket: Kestrel instead of the in-memory server, on a port the OS picks.
        await using var intake = fixture.CreateIntake(new Dictionary<string, string?> { ["urls"] = "http://127.0.0.1:0" });
        intake.UseKestrel();
        intake.StartServer();
        var address = intake.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        var baseAddress = new Uri(address + "/");
        using var buyers = new HttpClient { BaseAddress = baseAddress };
        using var admin = new HttpClient { BaseAddress = baseAddress };
        admin.DefaultRequestHeaders.Add("X-Admin-Key", fixture.AdminKey);
        var campaign = await admin.CreateCampaignAsync(Stock, Shards);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            // Chromium's sandbox refuses to start as root, which is how CI and the test machines run.
            Args = ["--no-sandbox"],
        });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        // The whole suite shares two cores with the servers: a poll may take seconds, not Playwright's default 5.
        Assertions.SetDefaultExpectTimeout(30_000);
        page.SetDefaultTimeout(30_000);
        var scriptErrors = new List<string>();
        page.PageError += (_, error) => scriptErrors.Add(error);
        try
        {
            await page.GotoAsync(new Uri(baseAddress, $"dashboard?campaign={campaign.Id}").ToString());

            // Asked once for the key; a wrong one is refused and asked for again.
            await page.FillAsync("#key-input", "not-the-key");
            await page.ClickAsync("#key-form button[type=submit]");
            await Assertions.Expect(page.Locator("#key-error")).ToContainTextAsync("refused");
            await page.FillAsync("#key-input", fixture.AdminKey);
            await page.ClickAsync("#key-form button[type=submit]");

            await Assertions.Expect(page.Locator("#campaign-name")).ToHaveTextAsync(campaign.Name);
            await Assertions.Expect(page.Locator("#shards .shard")).ToHaveCountAsync(Shards);
            Assert.Equal(Stock, (await ShardStocksAsync(page)).Sum());
            Assert.Equal(campaign.Id.ToString(), await page.InputValueAsync("#campaign-picker"));

            // More buyers than stock, in waves, so the page sees the stock going rather than gone.
            var accepted = 0;
            for (var wave = 0; wave < 5; wave++)
            {
                var answers = await Task.WhenAll(Enumerable.Range(0, 60)
                    .Select(i => buyers.BuyAsync(campaign.Id, $"dashboard-buyer-{wave}-{i}")));
                accepted += answers.Count(a => a.StatusCode == HttpStatusCode.Accepted);
                await Task.Delay(400, cancellation);
                if (wave == 1)
                {
                    await ScreenshotAsync(page, "mid-sale.png");
                }
            }

            Assert.Equal(Stock, accepted);
            await WaitUntilAsync(async () => (await ShardStocksAsync(page)).All(s => s == 0), "every shard bar to show 0");
            Assert.All(await page.Locator("#shards .shard .fill").EvaluateAllAsync<string[]>("bars => bars.map(b => b.style.width)"),
                width => Assert.Equal("0%", width));

            await fixture.AssertDrainedAsync(campaign.Id, Shards, Stock);
            JsonElement counts = default;
            await WaitUntilAsync(async () =>
            {
                var live = await admin.GetFromJsonAsync<JsonElement>($"api/campaigns/{campaign.Id}/live", cancellation);
                counts = live.GetProperty("campaign").GetProperty("counts");
                return await PageCountsMatchAsync(page, counts);
            }, "the page's counts to equal the API's");
            Assert.Equal((Stock, 0, 0, Stock), (counts.GetProperty("confirmed").GetInt32(), counts.GetProperty("pending").GetInt32(),
                counts.GetProperty("failed").GetInt32(), counts.GetProperty("awaitingPayment").GetInt32()));

            // The rate charts saw the sale: a peak above zero while buyers were answered and orders written.
            foreach (var chart in new[] { "chart-accepted", "chart-orders" })
            {
                var peak = await page.Locator($"#{chart}").GetAttributeAsync("data-peak");
                Assert.True(double.TryParse(peak, System.Globalization.CultureInfo.InvariantCulture, out var value) && value > 0, $"{chart} peak: '{peak}'");
            }

            await Assertions.Expect(page.Locator("#queue-depth")).Not.ToHaveTextAsync("unknown");
            Assert.Empty(scriptErrors);
        }
        finally
        {
            await ScreenshotAsync(page, "sale.png");
        }
    }

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        var path = Path.Combine(ScreenshotDirectory, name);
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        TestContext.Current.AddAttachment($"dashboard-{name}", await File.ReadAllBytesAsync(path, CancellationToken.None), "image/png");
        TestContext.Current.SendDiagnosticMessage($"Dashboard screenshot: {path}");
    }

    private static async Task<int[]> ShardStocksAsync(IPage page) =>
        await page.Locator("#shards .shard").EvaluateAllAsync<int[]>("rows => rows.map(r => Number(r.dataset.stock))");

    private static async Task<bool> PageCountsMatchAsync(IPage page, JsonElement counts)
    {
        foreach (var name in new[] { "confirmed", "pending", "failed", "awaitingPayment", "paid", "paymentExpired" })
        {
            var shown = await page.Locator($"#count-{name}").GetAttributeAsync("data-value");
            if (shown != counts.GetProperty(name).GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                return false;
            }
        }

        return true;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"waited 30 s for {what}");
            await Task.Delay(200);
        }
    }
}
