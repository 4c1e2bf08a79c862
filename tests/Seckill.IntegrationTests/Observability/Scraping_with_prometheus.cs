using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Observability;

/// <summary>
/// The real Prometheus that <c>infra/services.sh up</c> starts (README's test command runs it):
/// what it scraped, read back through its HTTP query API, must equal what the sale's buyers were told.
/// </summary>
public class Scraping_with_prometheus(PipelineFixture fixture)
{
    private static readonly TimeSpan ScrapeWait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Reports_the_queue_depth_the_broker_has_and_every_redis_shard_and_postgres_up()
    {
        var prometheus = PrometheusServer.Locate(fixture);
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        // No worker on this virtual host: the sale's messages stay in seckill-orders, a depth that holds still.
        await using var intake = fixture.StartIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(stock: 12, shards: 2);
        var client = intake.CreateClient();
        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => client.BuyAsync(campaign.Id, $"watched-{i}")));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        var ready = await broker.ReadyMessagesAsync("seckill-orders");
        Assert.True(ready > 0, "the sale published nothing");

        // rabbitmq_prometheus refreshes per-queue figures every few seconds; wait for the scrape that carries them.
        var depth = $"rabbitmq_queue_messages_ready{{vhost=\"{broker.VirtualHost}\",queue=\"seckill-orders\"}}";
        var scraped = await prometheus.WaitForAsync(depth, v => v == ready, ScrapeWait);
        Assert.Equal(ready, scraped);

        Assert.Equal(fixture.RedisEndpointCount, await prometheus.WaitForAsync("sum(redis_up{job=\"redis\"})", v => v == fixture.RedisEndpointCount, ScrapeWait));
        Assert.Equal(1, await prometheus.WaitForAsync("pg_up{job=\"postgres\"}", v => v == 1, ScrapeWait));
    }

    /// <summary>
    /// The intake and worker run as their own processes on real ports (an in-process host has none, and
    /// shares the process-wide "Seckill" meter with every other test's hosts), so their counters hold this sale only.
    /// </summary>
    [Fact]
    public async Task Counts_a_sale_by_outcome_and_its_orders_written_as_the_buyers_were_answered()
    {
        const int stock = 30, shards = 2, buyers = 45;
        var prometheus = PrometheusServer.Locate(fixture);
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        var intakePort = ChildProcess.FreePort();
        var workerPort = ChildProcess.FreePort();
        var settings = fixture.With(new Dictionary<string, string?>(broker.Settings)
        {
            ["Seckill:Worker:HttpPort"] = workerPort.ToString(CultureInfo.InvariantCulture),
            ["Seckill:Intake:PublishTimeout"] = "00:00:30",
        });
        var logs = Path.Combine(Path.GetTempPath(), $"prometheus-{broker.VirtualHost}");
        using var intake = ChildProcess.StartIntake(settings, intakePort, logs + "-intake.log");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{intakePort}") };
        Assert.True(await Waiting.UntilAsync(async () => await AnswersAsync(http, "/health"), TimeSpan.FromSeconds(60)),
            $"the intake did not start (log: {logs}-intake.log)");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/metrics")).StatusCode);

        using var worker = ChildProcess.StartWorker(settings, logs + "-worker.log");
        var test = Guid.NewGuid().ToString("N");
        using var targets = prometheus.Register(test, ("intake", intakePort), ("worker", workerPort));
        Assert.Equal(2, await prometheus.WaitForAsync($"sum(up{{job=\"test\",test=\"{test}\"}})", v => v == 2, ScrapeWait));

        var campaign = await fixture.CreateCampaignAsync(stock, shards);
        var responses = await Task.WhenAll(Enumerable.Range(0, buyers).Select(i => http.BuyAsync(campaign.Id, $"scraped-{i}")));
        var answered = new Dictionary<string, int>();
        foreach (var response in responses)
        {
            var outcome = response.StatusCode == HttpStatusCode.Accepted ? "accepted" : (await response.ReadProblemAsync()).Code;
            answered[outcome] = answered.GetValueOrDefault(outcome) + 1;
        }

        Assert.Equal(stock, answered.GetValueOrDefault("accepted"));
        Assert.Equal(buyers - stock, answered.GetValueOrDefault("sold-out"));
        await fixture.AssertDrainedAsync(campaign.Id, shards, stock);

        foreach (var (outcome, count) in answered)
        {
            var query = $"sum(seckill_purchases_total{{test=\"{test}\",outcome=\"{outcome}\"}})";
            Assert.Equal(count, await prometheus.WaitForAsync(query, v => v == count, ScrapeWait));
        }

        var written = $"sum(seckill_orders_written_total{{test=\"{test}\",service=\"worker\"}})";
        Assert.Equal(stock, await prometheus.WaitForAsync(written, v => v == stock, ScrapeWait));
    }

    private static async Task<bool> AnswersAsync(HttpClient http, string path)
    {
        try
        {
            return (await http.GetAsync(path)).IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}

/// <summary>The Prometheus the infra scripts run: its query API, and its file_sd folder for a test's own targets.</summary>
public sealed class PrometheusServer
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private PrometheusServer(Uri url, string targets)
    {
        Url = url;
        TargetsFolder = targets;
    }

    public Uri Url { get; }

    public string TargetsFolder { get; }

    /// <summary>From SECKILL_PROMETHEUS_URL / SECKILL_PROMETHEUS_TARGETS, else the env file; skips the test on containers.</summary>
    public static PrometheusServer Locate(PipelineFixture fixture)
    {
        if (fixture.UsesContainers)
        {
            Assert.Skip("Prometheus runs with the infra scripts' services, not with Testcontainers");
        }

        string? url = Environment.GetEnvironmentVariable("SECKILL_PROMETHEUS_URL");
        string? targets = Environment.GetEnvironmentVariable("SECKILL_PROMETHEUS_TARGETS");
        if ((string.IsNullOrEmpty(url) || string.IsNullOrEmpty(targets)) && ServiceEndpoints.FindEnvFile() is { } envFile)
        {
            var values = ServiceEndpoints.ParseEnvFile(envFile).ToDictionary(p => p.Key, p => p.Value);
            url = string.IsNullOrEmpty(url) ? values.GetValueOrDefault("SECKILL_PROMETHEUS_URL") : url;
            targets = string.IsNullOrEmpty(targets) ? values.GetValueOrDefault("SECKILL_PROMETHEUS_TARGETS") : targets;
        }

        if (string.IsNullOrEmpty(url) || string.IsNullOrEmpty(targets))
        {
            throw new InvalidOperationException(
                $"No Prometheus to test against: SECKILL_PROMETHEUS_URL/SECKILL_PROMETHEUS_TARGETS are unset. Run '{ServiceEndpoints.StartCommand}' (it starts Prometheus and writes them to .local/seckill.env).");
        }

        return new PrometheusServer(new Uri(url), targets);
    }

    /// <summary>
    /// The instant value of <paramref name="query"/> (a single series; no series reads as 0), polled until
    /// <paramref name="done"/> holds or <paramref name="timeout"/> passes; the last value either way.
    /// </summary>
    public async Task<double> WaitForAsync(string query, Func<double, bool> done, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await QueryAsync(query);
            if (done(value) || clock.Elapsed > timeout)
            {
                return value;
            }

            await Task.Delay(500);
        }
    }

    public async Task<double> QueryAsync(string query)
    {
        var response = await Http.GetAsync(new Uri(Url, $"/api/v1/query?query={Uri.EscapeDataString(query)}"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"Prometheus answered {(int)response.StatusCode} to {query}: {body}");
        using var json = JsonDocument.Parse(body);
        var result = json.RootElement.GetProperty("data").GetProperty("result");
        Assert.True(result.GetArrayLength() <= 1, $"{query} matched {result.GetArrayLength()} series: {body}");
        return result.GetArrayLength() == 0
            ? 0
            : double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
    }

    /// <summary>Adds 127.0.0.1 targets to the scrape job "test", labelled with the test's id; disposing removes them.</summary>
    public IDisposable Register(string test, params (string Service, int Port)[] targets)
    {
        Directory.CreateDirectory(TargetsFolder);
        var path = Path.Combine(TargetsFolder, $"test-{test}.json");
        var groups = targets.Select(t => new
        {
            targets = new[] { $"127.0.0.1:{t.Port}" },
            labels = new Dictionary<string, string> { ["test"] = test, ["service"] = t.Service },
        });
        // Written whole, then renamed: Prometheus may read the folder at any moment.
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(groups));
        File.Move(path + ".tmp", path, overwrite: true);
        return new Removal(path);
    }

    private sealed class Removal(string path) : IDisposable
    {
        public void Dispose() => File.Delete(path);
    }
}
