using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Hosting;
using Seckill.Worker;
using Npgsql;
using StackExchange.Redis;

[assembly: AssemblyFixture(typeof(Seckill.IntegrationTests.Fixtures.PipelineFixture))]

namespace Seckill.IntegrationTests.Fixtures;

/// <summary>
/// One set of real services and one in-process intake for the whole assembly. Test classes run in
/// parallel against it; each test makes its own campaign, so nothing needs resetting.
/// </summary>
public sealed class PipelineFixture : IAsyncLifetime
{
    private ContainerServices? _containers;
    private ConnectionMultiplexer[] _redis = [];

    public IReadOnlyDictionary<string, string?> Settings { get; private set; } = new Dictionary<string, string?>();

    public WebApplicationFactory<Program> Intake { get; private set; } = null!;

    /// <summary>The test's own view of PostgreSQL, independent of the services under test.</summary>
    public NpgsqlDataSource Database { get; private set; } = null!;

    public string AdminKey => Settings["Seckill:AdminKey"]!;

    public int RedisEndpointCount => _redis.Length;

    public async ValueTask InitializeAsync()
    {
        var settings = ServiceEndpoints.FromEnvironmentOrEnvFile();
        if (settings is null)
        {
            if (!ContainerServices.DockerIsReachable())
            {
                throw new InvalidOperationException(
                    "No PostgreSQL, RabbitMQ and Redis to test against: no Seckill__*/ConnectionStrings__* variables, no .local/seckill.env, " +
                    $"and no Docker engine. Run '{ServiceEndpoints.StartCommand}' from the repository root, then run the tests again.");
            }

            _containers = new ContainerServices();
            settings = await _containers.StartAsync();
        }

        Settings = settings;
        Database = NpgsqlDataSource.Create(settings["ConnectionStrings:Seckill"]!);
        var shards = settings.Where(s => s.Key.StartsWith("Seckill:Redis:Shards:", StringComparison.Ordinal))
            .OrderBy(s => int.Parse(s.Key["Seckill:Redis:Shards:".Length..], System.Globalization.CultureInfo.InvariantCulture))
            .Select(s => s.Value!)
            .ToList();
        _redis = await Task.WhenAll(shards.Select(endpoint => ConnectionMultiplexer.ConnectAsync(endpoint)));
        Intake = CreateIntake();
        _ = Intake.Server;
        Worker = CreateWorker();
        await Worker.StartAsync();
    }

    /// <summary>The shared worker: drains <c>seckill-orders</c> on the default virtual host for every test.</summary>
    public IHost Worker { get; private set; } = null!;

    /// <summary>A worker host on the shared services, not started; <paramref name="overrides"/> replace single settings.</summary>
    public IHost CreateWorker(IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>(Settings);
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return WorkerApp.Build([], settings);
    }

    /// <summary>An intake host on the shared services; <paramref name="overrides"/> replace single settings.</summary>
    public WebApplicationFactory<Program> CreateIntake(IReadOnlyDictionary<string, string?>? overrides = null) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(host =>
        {
            foreach (var (key, value) in Settings.Concat(TestDefaults).Concat(overrides ?? new Dictionary<string, string?>()))
            {
                host.UseSetting(key, value);
            }
        });

    /// <summary>
    /// Tests fire tens of thousands of requests at one in-process intake at once; admission control
    /// is proven by its own test with its own limits.
    /// </summary>
    private static readonly Dictionary<string, string?> TestDefaults = new()
    {
        ["Seckill:Intake:MaxConcurrentPurchases"] = "100000",
        ["Seckill:Intake:PurchaseQueueLimit"] = "100000",
    };

    public HttpClient AdminClient()
    {
        var client = Intake.CreateClient();
        client.DefaultRequestHeaders.Add("X-Admin-Key", AdminKey);
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }

    public HttpClient AnonymousClient() => Intake.CreateClient();

    /// <summary>The Redis database that holds shard <paramref name="shard"/> of any campaign (shard i on endpoint i mod endpoints).</summary>
    public IDatabase RedisForShard(int shard) => _redis[shard % _redis.Length].GetDatabase();

    /// <summary>Every key on every endpoint matching <paramref name="pattern"/>, by SCAN.</summary>
    public async Task<List<string>> ScanKeysAsync(string pattern)
    {
        var keys = new List<string>();
        foreach (var multiplexer in _redis)
        {
            var server = multiplexer.GetServers().Single();
            await foreach (var key in server.KeysAsync(pattern: pattern, pageSize: 1000))
            {
                keys.Add(key.ToString());
            }
        }

        return keys;
    }

    public async ValueTask DisposeAsync()
    {
        if (Worker is not null)
        {
            await Worker.StopAsync();
            Worker.Dispose();
        }

        if (Intake is not null)
        {
            await Intake.DisposeAsync();
        }

        foreach (var multiplexer in _redis)
        {
            await multiplexer.DisposeAsync();
        }

        if (Database is not null)
        {
            await Database.DisposeAsync();
        }

        if (_containers is not null)
        {
            await _containers.DisposeAsync();
        }
    }
}
