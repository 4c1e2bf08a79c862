using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Hosting;
using Seckill.Worker;
using Seckill.Worker.Housekeeping;
using Seckill.Worker.Payments;
using Seckill.Worker.Sweeping;
using Microsoft.Extensions.DependencyInjection;
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

    public IReadOnlyDictionary<string, string?> Settings { get; private set; } = new Dictionary<string, string?>();

    public WebApplicationFactory<Program> Intake { get; private set; } = null!;

    /// <summary>The test's own view of PostgreSQL, independent of the services under test.</summary>
    public NpgsqlDataSource Database { get; private set; } = null!;

    public string AdminKey => Settings["Seckill:AdminKey"]!;

    /// <summary>True when the servers are Testcontainers rather than the infra scripts' local processes.</summary>
    public bool UsesContainers { get; private set; }

    public int RedisEndpointCount => Redis.EndpointCount;

    /// <summary>The test's own connections to the shared Redis endpoints.</summary>
    public RedisShards Redis { get; private set; } = null!;

    public IReadOnlyList<string> RedisEndpoints { get; private set; } = [];

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

            UsesContainers = true;
            _containers = new ContainerServices();
            settings = await _containers.StartAsync();
        }

        Settings = settings;
        Database = NpgsqlDataSource.Create(settings["ConnectionStrings:Seckill"]!);
        var shards = settings.Where(s => s.Key.StartsWith("Seckill:Redis:Shards:", StringComparison.Ordinal))
            .OrderBy(s => int.Parse(s.Key["Seckill:Redis:Shards:".Length..], System.Globalization.CultureInfo.InvariantCulture))
            .Select(s => s.Value!)
            .ToList();
        RedisEndpoints = shards;
        Redis = await RedisShards.ConnectAsync(shards);
        Intake = CreateIntake();
        _ = Intake.Server;
        Worker = CreateWorker();
        await Worker.StartAsync();
    }

    /// <summary>The shared worker: drains <c>seckill-orders</c> on the default virtual host for every test.</summary>
    public IHost Worker { get; private set; } = null!;

    /// <summary>
    /// Stops the shared worker's consumers until the result is disposed. The default virtual host's queues
    /// are shared by every test run and demo on the same servers, and what this worker consumes from them
    /// is counted in this process's meter, which every host's /metrics reads: a test that checks those
    /// counters exactly runs alone (<c>Metering</c>) with this worker paused.
    /// </summary>
    public async Task<IAsyncDisposable> PauseSharedWorkerAsync()
    {
        var bus = Worker.Services.GetRequiredService<MassTransit.IBusControl>();
        await bus.StopAsync();
        return new Resumed(bus);
    }

    private sealed class Resumed(MassTransit.IBusControl bus) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await bus.StartAsync();
    }

    /// <summary>
    /// A worker host on the shared services, not started; <paramref name="overrides"/> replace single
    /// settings. Its sweeper is off unless the test turns it on, and then it sweeps only
    /// <paramref name="sweptCampaigns"/>: the database and Redis are shared by every test, and a sweeper
    /// would otherwise publish other tests' reservations into this worker's virtual host.
    /// </summary>
    public IHost CreateWorker(IReadOnlyDictionary<string, string?>? overrides = null, params SweptCampaign[] sweptCampaigns) =>
        WorkerApp.Build([], With(overrides), services => services.AddSingleton<ISweptCampaigns>(new OnlyTheseCampaigns(sweptCampaigns)));

    /// <summary>
    /// A worker whose sweeper and housekeeping run their real campaign selection, narrowed afterwards
    /// to <paramref name="campaigns"/>, and whose payment expiry moves only their orders: the selection's
    /// own rules are what the test proves, and other tests' campaigns in the shared stores stay untouched.
    /// </summary>
    public IHost CreateWorkerScopedTo(IReadOnlyDictionary<string, string?>? overrides, params Guid[] campaigns) =>
        WorkerApp.Build([], With(overrides), services =>
        {
            services.AddSingleton<ISweptCampaigns>(sp => new ScopedSweptCampaigns(
                ActivatorUtilities.CreateInstance<UnsettledCampaigns>(sp), [.. campaigns]));
            services.AddSingleton<IEndedCampaigns>(sp => new ScopedEndedCampaigns(
                ActivatorUtilities.CreateInstance<EndedCampaignsInDatabase>(sp), [.. campaigns]));
            services.AddSingleton(new ExpiringCampaigns(campaigns));
        });

    /// <summary>
    /// The shared settings (sweeper, housekeeping and payment expiry off, a free HTTP port) with <paramref name="overrides"/>
    /// replacing single entries. Expiry works on every campaign in the shared database: a fault test's worker
    /// whose shard 0 is a redis-server of its own would put other tests' expired units back on that server,
    /// so only the payment tests turn it on, in workers of their own.
    /// </summary>
    public Dictionary<string, string?> With(IReadOnlyDictionary<string, string?>? overrides)
    {
        var settings = new Dictionary<string, string?>(Settings)
        {
            ["Seckill:Sweeper:Enabled"] = "false",
            ["Seckill:Housekeeping:Enabled"] = "false",
            ["Seckill:Payments:ExpiryEnabled"] = "false",
            // Several workers run in this process at once: each takes a free port for /metrics and /health.
            ["Seckill:Worker:HttpPort"] = "0",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
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
    /// An intake already started: its bus has declared the queues, so messages published before any
    /// worker runs (a pre-filled queue, a tap) are kept rather than dropped.
    /// </summary>
    public WebApplicationFactory<Program> StartIntake(IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var intake = CreateIntake(overrides);
        _ = intake.Server;
        return intake;
    }

    /// <summary>
    /// Tests fire tens of thousands of requests at one in-process intake at once; admission control
    /// is proven by its own test with its own limits. The whole suite shares two cores with the
    /// servers, so a broker confirm may take seconds: the tests that want a publish to fail set
    /// their own short timeout, the others must not fail for a slow machine.
    /// </summary>
    private static readonly Dictionary<string, string?> TestDefaults = new()
    {
        ["Seckill:Intake:PublishTimeout"] = "00:00:30",
        ["Seckill:Intake:MaxConcurrentPurchases"] = "100000",
        ["Seckill:Intake:PurchaseQueueLimit"] = "100000",
    };

    public HttpClient AdminClient() => AdminClient(Intake);

    public HttpClient AdminClient(WebApplicationFactory<Program> intake)
    {
        var client = intake.CreateClient();
        client.DefaultRequestHeaders.Add("X-Admin-Key", AdminKey);
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }

    public HttpClient AnonymousClient() => Intake.CreateClient();

    /// <summary>A raw AMQP connection of the test's own, to read or place messages on the broker directly.</summary>
    public Task<RabbitMQ.Client.IConnection> ConnectToBrokerAsync(string? virtualHost = null) => new RabbitMQ.Client.ConnectionFactory
    {
        HostName = Settings["Seckill:RabbitMq:Host"]!,
        Port = int.Parse(Settings["Seckill:RabbitMq:Port"]!, System.Globalization.CultureInfo.InvariantCulture),
        VirtualHost = virtualHost ?? Settings["Seckill:RabbitMq:VirtualHost"] ?? "/",
        UserName = Settings["Seckill:RabbitMq:Username"]!,
        Password = Settings["Seckill:RabbitMq:Password"]!,
    }.CreateConnectionAsync();

    /// <summary>The Redis database that holds shard <paramref name="shard"/> of any campaign (shard i on endpoint i mod endpoints).</summary>
    public IDatabase RedisForShard(int shard) => Redis.ForShard(shard);

    /// <summary>Every key on every endpoint matching <paramref name="pattern"/>, by SCAN.</summary>
    public Task<List<string>> ScanKeysAsync(string pattern) => Redis.ScanKeysAsync(pattern);

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

        if (Redis is not null)
        {
            await Redis.DisposeAsync();
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

/// <summary>A test's sweeper sees its own campaigns only.</summary>
public sealed class OnlyTheseCampaigns(IReadOnlyList<SweptCampaign> campaigns) : ISweptCampaigns
{
    public Task<IReadOnlyList<SweptCampaign>> ListAsync(CancellationToken cancellationToken) => Task.FromResult(campaigns);
}

/// <summary>The real sweep selection, then only the test's campaigns.</summary>
public sealed class ScopedSweptCampaigns(ISweptCampaigns real, HashSet<Guid> campaigns) : ISweptCampaigns
{
    public async Task<IReadOnlyList<SweptCampaign>> ListAsync(CancellationToken cancellationToken) =>
        [.. (await real.ListAsync(cancellationToken)).Where(c => campaigns.Contains(c.Id))];
}

/// <summary>The real housekeeping selection, then only the test's campaigns.</summary>
public sealed class ScopedEndedCampaigns(IEndedCampaigns real, HashSet<Guid> campaigns) : IEndedCampaigns
{
    public async Task<IReadOnlyList<EndedCampaign>> ListUnsettledAsync(DateTimeOffset endedBefore, CancellationToken cancellationToken) =>
        [.. (await real.ListUnsettledAsync(endedBefore, cancellationToken)).Where(c => campaigns.Contains(c.Id))];

    public async Task<IReadOnlyList<EndedCampaign>> ListDueAsync(DateTimeOffset settledBefore, DateTimeOffset now, CancellationToken cancellationToken) =>
        [.. (await real.ListDueAsync(settledBefore, now, cancellationToken)).Where(c => campaigns.Contains(c.Id))];
}
