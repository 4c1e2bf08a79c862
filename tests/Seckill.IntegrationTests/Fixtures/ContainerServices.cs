using Testcontainers.PostgreSql;
using Testcontainers.RabbitMq;
using Testcontainers.Redis;

namespace Seckill.IntegrationTests.Fixtures;

/// <summary>The same real servers as the infra scripts, in containers, for machines with a Docker engine.</summary>
public sealed class ContainerServices : IAsyncDisposable
{
    private const int RedisShards = 4;

    private readonly PostgreSqlContainer _postgres = new PostgreSqlBuilder("postgres:15")
        .WithDatabase("seckill").WithUsername("seckill").WithPassword("seckill").Build();

    private readonly RabbitMqContainer _rabbit = new RabbitMqBuilder("rabbitmq:3.13-management")
        .WithUsername("seckill").WithPassword("seckill").WithPortBinding(15672, true).Build();

    private readonly RedisContainer[] _redis = [.. Enumerable.Range(0, RedisShards)
        .Select(_ => new RedisBuilder("redis:7").WithCommand("--appendonly", "yes", "--appendfsync", "everysec").Build())];

    public static bool DockerIsReachable() =>
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_HOST")) || File.Exists("/var/run/docker.sock");

    public async Task<Dictionary<string, string?>> StartAsync()
    {
        await Task.WhenAll([_postgres.StartAsync(), _rabbit.StartAsync(), .. _redis.Select(r => r.StartAsync())]);
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Seckill"] = _postgres.GetConnectionString(),
            ["Seckill:RabbitMq:Host"] = _rabbit.Hostname,
            ["Seckill:RabbitMq:Port"] = _rabbit.GetMappedPublicPort(5672).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Seckill:RabbitMq:ManagementPort"] = _rabbit.GetMappedPublicPort(15672).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Seckill:RabbitMq:VirtualHost"] = "/",
            ["Seckill:RabbitMq:Username"] = "seckill",
            ["Seckill:RabbitMq:Password"] = "seckill",
            ["Seckill:AdminKey"] = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)),
        };
        for (var i = 0; i < _redis.Length; i++)
        {
            settings[$"Seckill:Redis:Shards:{i}"] = _redis[i].GetConnectionString();
        }

        return settings;
    }

    public async ValueTask DisposeAsync()
    {
        await _postgres.DisposeAsync();
        await _rabbit.DisposeAsync();
        foreach (var redis in _redis)
        {
            await redis.DisposeAsync();
        }
    }
}
