using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using RabbitMQ.Client;

namespace Seckill.IntegrationTests.Fixtures;

/// <summary>
/// A RabbitMQ virtual host of one test's own: its intake and workers see their own seckill-orders
/// queue, so the test controls exactly who consumes what (a pre-filled queue, a rate-limited worker,
/// a duplicate delivery) while the shared worker drains everyone else's.
/// </summary>
public sealed class IsolatedBroker : IAsyncDisposable
{
    private readonly PipelineFixture _fixture;
    private readonly HttpClient _management;

    private IsolatedBroker(PipelineFixture fixture, string virtualHost)
    {
        _fixture = fixture;
        VirtualHost = virtualHost;
        var settings = fixture.Settings;
        _management = new HttpClient
        {
            BaseAddress = new Uri($"http://{settings["Seckill:RabbitMq:Host"]}:{settings["Seckill:RabbitMq:ManagementPort"]}/api/"),
        };
        var credentials = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings["Seckill:RabbitMq:Username"]}:{settings["Seckill:RabbitMq:Password"]}"));
        _management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", credentials);
    }

    public string VirtualHost { get; }

    /// <summary>Settings that point an intake or worker at this virtual host.</summary>
    public Dictionary<string, string?> Settings => new() { ["Seckill:RabbitMq:VirtualHost"] = VirtualHost };

    public static async Task<IsolatedBroker> CreateAsync(PipelineFixture fixture)
    {
        var broker = new IsolatedBroker(fixture, $"seckill-test-{Guid.NewGuid():N}");
        var vhost = Uri.EscapeDataString(broker.VirtualHost);
        (await broker._management.PutAsync($"vhosts/{vhost}", null)).EnsureSuccessStatusCode();
        var user = Uri.EscapeDataString(fixture.Settings["Seckill:RabbitMq:Username"]!);
        (await broker._management.PutAsJsonAsync($"permissions/{vhost}/{user}", new { configure = ".*", write = ".*", read = ".*" })).EnsureSuccessStatusCode();
        return broker;
    }

    /// <summary>Messages ready in a queue of this virtual host, read live from the broker (not the management API's sampled statistics).</summary>
    public async Task<uint> ReadyMessagesAsync(string queue)
    {
        await using var connection = await _fixture.ConnectToBrokerAsync(VirtualHost);
        await using var channel = await connection.CreateChannelAsync();
        var declared = await channel.QueueDeclarePassiveAsync(queue);
        return declared.MessageCount;
    }

    public async ValueTask DisposeAsync()
    {
        await _management.DeleteAsync($"vhosts/{Uri.EscapeDataString(VirtualHost)}");
        _management.Dispose();
    }
}
