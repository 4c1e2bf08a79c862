using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Seckill.Messaging;

namespace Seckill.Intake.Dashboard;

public sealed record QueueDepth(long Ready, long Unacked);

/// <summary>
/// Reads <c>seckill-orders</c>' depth from RabbitMQ's management API. Best effort: the dashboard must
/// keep drawing stock and counts when the plugin is off or slow, so any failure is a null, not an error.
/// </summary>
public sealed partial class QueueDepths
{
    private readonly HttpClient _client;
    private readonly Uri _queue;
    private readonly ILogger<QueueDepths> _logger;
    private int _failuresLogged;

    public QueueDepths(HttpClient client, IOptions<RabbitMqOptions> options, ILogger<QueueDepths> logger)
    {
        var rabbit = options.Value;
        _client = client;
        _logger = logger;
        // A poll every half second must not queue up behind a hanging API.
        _client.Timeout = TimeSpan.FromSeconds(1);
        _client.BaseAddress = new Uri($"http://{rabbit.Host}:{rabbit.ManagementPort}/");
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{rabbit.Username}:{rabbit.Password}")));
        _queue = new Uri($"api/queues/{Uri.EscapeDataString(rabbit.VirtualHost)}/{SeckillTopology.OrdersQueue}", UriKind.Relative);
    }

    public async Task<QueueDepth?> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _client.GetAsync(_queue, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                LogOnce($"status {(int)response.StatusCode}");
                return null;
            }

            using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken));
            var root = json.RootElement;
            // A queue the broker has just declared has no message statistics yet.
            return new QueueDepth(Count(root, "messages_ready"), Count(root, "messages_unacknowledged"));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or InvalidOperationException)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            LogOnce(e.Message);
            return null;
        }
    }

    private static long Count(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : 0;

    // One line is enough to tell an operator why the queue chart is empty; not one per poll.
    private void LogOnce(string reason)
    {
        if (Interlocked.Exchange(ref _failuresLogged, 1) == 0)
        {
            QueueUnreadable(_logger, SeckillTopology.OrdersQueue, reason);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dashboard: the depth of {Queue} is not readable from the management API ({Reason}); shown as unknown")]
    private static partial void QueueUnreadable(ILogger logger, string queue, string reason);
}
