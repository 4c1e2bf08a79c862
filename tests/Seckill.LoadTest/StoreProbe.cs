using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Npgsql;
using StackExchange.Redis;

namespace Seckill.LoadTest;

public sealed record CampaignRow(long Sold, long TotalStock, int ShardCount);

/// <summary>
/// The campaign's orders by status. Live orders (awaiting payment or paid) hold a unit; an expired one gave its
/// unit back once <c>unit_returned_at</c> is set, counted by <see cref="ExpiredNotReturned"/> while it is not.
/// </summary>
public sealed record OrderCounts(long Orders, long DistinctBuyers, long AwaitingPayment, long Paid, long PaymentExpired, long ExpiredNotReturned)
{
    public long Live => AwaitingPayment + Paid;

    public long UnitsReturned => PaymentExpired - ExpiredNotReturned;
}

/// <summary>What the sampler follows: campaigns.sold and the orders written, paid and expired so far.</summary>
public sealed record OrderProgress(long Sold, long Orders, long Paid, long PaymentExpired);

/// <summary>A reservation token's fields as stored on its shard; <see cref="State"/> is null when there is no token.</summary>
public sealed record TokenView(string? State, string? Reason, string? OrderId);

/// <summary>Reads the stores themselves: PostgreSQL rows, Redis shard keys, the RabbitMQ orders queue.</summary>
public sealed class StoreProbe : IAsyncDisposable
{
    public const string OrdersQueue = "seckill-orders";

    /// <summary>What <see cref="OrderStatusesAsync"/> calls an order awaiting payment past its deadline.</summary>
    public const string Overdue = "awaiting-payment, overdue";

    private readonly NpgsqlDataSource _postgres;
    private readonly ConnectionMultiplexer[] _redis;
    private readonly HttpClient _management;
    private readonly Uri _queueUri;

    private StoreProbe(NpgsqlDataSource postgres, ConnectionMultiplexer[] redis, HttpClient management, Uri queueUri)
    {
        _postgres = postgres;
        _redis = redis;
        _management = management;
        _queueUri = queueUri;
    }

    /// <summary>Connects to every store and reads each once, so a wrong endpoint fails before the sale.</summary>
    public static async Task<StoreProbe> ConnectAsync(ServiceSettings settings, CancellationToken cancellationToken)
    {
        var postgres = NpgsqlDataSource.Create(settings.Postgres);
        try
        {
            await using var command = postgres.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or ArgumentException or InvalidOperationException)
        {
            await postgres.DisposeAsync();
            throw new ServiceUnavailableException($"PostgreSQL (ConnectionStrings__Seckill) cannot be reached: {e.Message}", e);
        }

        var redis = new ConnectionMultiplexer[settings.RedisShards.Count];
        for (var i = 0; i < redis.Length; i++)
        {
            var configuration = ConfigurationOptions.Parse(settings.RedisShards[i]);
            configuration.AbortOnConnectFail = true;
            configuration.ConnectTimeout = 5000;
            try
            {
                redis[i] = await ConnectionMultiplexer.ConnectAsync(configuration);
            }
            catch (RedisConnectionException e)
            {
                foreach (var connected in redis.Take(i))
                {
                    await connected.DisposeAsync();
                }

                await postgres.DisposeAsync();
                // The endpoint string may carry a password: name it without.
                throw new ServiceUnavailableException(
                    $"Redis shard endpoint Seckill__Redis__Shards__{i} ('{configuration.ToString(includePassword: false)}') cannot be reached: {e.Message}", e);
            }
        }

        var rabbit = settings.Rabbit;
        var management = new HttpClient
        {
            BaseAddress = new Uri($"http://{rabbit.Host}:{rabbit.Port}/"),
            Timeout = TimeSpan.FromSeconds(5),
        };
        management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{rabbit.Username}:{rabbit.Password}")));
        var queueUri = new Uri($"api/queues/{Uri.EscapeDataString(rabbit.VirtualHost)}/{OrdersQueue}", UriKind.Relative);
        var probe = new StoreProbe(postgres, redis, management, queueUri);
        try
        {
            await probe.QueueDepthAsync(cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
        {
            await probe.DisposeAsync();
            throw new ServiceUnavailableException(
                $"The RabbitMQ management API at {management.BaseAddress} cannot report queue {OrdersQueue} (vhost '{rabbit.VirtualHost}'): {e.Message}", e);
        }

        return probe;
    }

    public async Task<CampaignRow?> ReadCampaignAsync(Guid campaignId, CancellationToken cancellationToken)
    {
        await using var command = _postgres.CreateCommand("SELECT sold, total_stock, shard_count FROM campaigns WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = campaignId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new CampaignRow(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt32(2))
            : null;
    }

    public async Task<long> SoldAsync(Guid campaignId, CancellationToken cancellationToken)
    {
        await using var command = _postgres.CreateCommand("SELECT sold FROM campaigns WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = campaignId });
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<OrderCounts> CountOrdersAsync(Guid campaignId, CancellationToken cancellationToken)
    {
        await using var command = _postgres.CreateCommand("""
            SELECT count(*), count(DISTINCT user_id),
                   count(*) FILTER (WHERE status = 'awaiting-payment'),
                   count(*) FILTER (WHERE status = 'paid'),
                   count(*) FILTER (WHERE status = 'payment-expired'),
                   count(*) FILTER (WHERE status = 'payment-expired' AND unit_returned_at IS NULL)
            FROM orders WHERE campaign_id = $1
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = campaignId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new OrderCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5));
    }

    /// <summary>One statement, so sold and the order counts are of the same snapshot.</summary>
    public async Task<OrderProgress> OrderProgressAsync(Guid campaignId, CancellationToken cancellationToken)
    {
        await using var command = _postgres.CreateCommand("""
            SELECT (SELECT sold FROM campaigns WHERE id = $1), count(*),
                   count(*) FILTER (WHERE status = 'paid'),
                   count(*) FILTER (WHERE status = 'payment-expired')
            FROM orders WHERE campaign_id = $1
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = campaignId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new OrderProgress(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    }

    /// <summary>
    /// The status of every order of the campaign, by reservation id; an order still awaiting payment past its
    /// deadline (the expiry job takes it at its next round, and the API already refuses its payment) reads
    /// <see cref="Overdue"/>.
    /// </summary>
    public async Task<Dictionary<Guid, string>> OrderStatusesAsync(Guid campaignId, CancellationToken cancellationToken)
    {
        await using var command = _postgres.CreateCommand($"""
            SELECT reservation_id,
                   CASE WHEN status = 'awaiting-payment' AND payment_deadline <= now() THEN '{Overdue}' ELSE status END
            FROM orders WHERE campaign_id = $1
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = campaignId });
        var statuses = new Dictionary<Guid, string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            statuses[reader.GetGuid(0)] = reader.GetString(1);
        }

        return statuses;
    }

    /// <summary>The reservation id of every order of the campaign.</summary>
    public async Task<HashSet<Guid>> OrderReservationIdsAsync(Guid campaignId, CancellationToken cancellationToken)
    {
        await using var command = _postgres.CreateCommand("SELECT reservation_id FROM orders WHERE campaign_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = campaignId });
        return await ReadIdsAsync(command, cancellationToken);
    }

    /// <summary>Which of <paramref name="reservationIds"/> have an order in the campaign.</summary>
    public async Task<HashSet<Guid>> OrderReservationIdsAmongAsync(Guid campaignId, IReadOnlyCollection<Guid> reservationIds, CancellationToken cancellationToken)
    {
        if (reservationIds.Count == 0)
        {
            return [];
        }

        await using var command = _postgres.CreateCommand("SELECT reservation_id FROM orders WHERE campaign_id = $1 AND reservation_id = ANY($2)");
        command.Parameters.Add(new NpgsqlParameter { Value = campaignId });
        command.Parameters.Add(new NpgsqlParameter { Value = reservationIds.ToArray() });
        return await ReadIdsAsync(command, cancellationToken);
    }

    /// <summary>
    /// Σ over shards of the <c>pending</c> counter: tokens not final yet (reserved, queued or claimed). A missing
    /// counter is 0; a negative one (a bug in the services) counts by its size, so it can never make the
    /// shards look drained by cancelling another shard's positive count.
    /// </summary>
    public async Task<long> UnfinishedTokensAsync(Guid campaignId, int shardCount)
    {
        var counts = new List<Task<RedisValue>>(shardCount);
        for (var shard = 0; shard < shardCount; shard++)
        {
            counts.Add(Shard(shard).StringGetAsync(Key(campaignId, shard, "pending")));
        }

        return (await Task.WhenAll(counts)).Sum(count => count.IsNull ? 0 : Math.Abs((long)count));
    }

    /// <summary>
    /// The tokens of <paramref name="reservations"/> (id and the shard it names), pipelined in batches so
    /// thousands cost a few round trips per endpoint rather than one each.
    /// </summary>
    public async Task<Dictionary<Guid, TokenView>> ReadTokensAsync(Guid campaignId, IReadOnlyList<(Guid Id, int Shard)> reservations)
    {
        const int BatchSize = 1000;
        RedisValue[] fields = ["s", "r", "o"];
        var tokens = new Dictionary<Guid, TokenView>(reservations.Count);
        foreach (var batch in reservations.Chunk(BatchSize))
        {
            var reads = batch
                .Select(reservation => Shard(reservation.Shard).HashGetAsync(Key(campaignId, reservation.Shard, $"token:{reservation.Id:N}"), fields))
                .ToArray();
            var values = await Task.WhenAll(reads);
            for (var i = 0; i < batch.Length; i++)
            {
                var (state, reason, order) = (values[i][0], values[i][1], values[i][2]);
                tokens[batch[i].Id] = new TokenView(state.IsNull ? null : (string?)state, reason.IsNull ? null : (string?)reason, order.IsNull ? null : (string?)order);
            }
        }

        return tokens;
    }

    public async Task<long> VirtualStockAsync(Guid campaignId, int shardCount)
    {
        var stocks = new List<Task<RedisValue>>(shardCount);
        for (var shard = 0; shard < shardCount; shard++)
        {
            stocks.Add(Shard(shard).StringGetAsync(Key(campaignId, shard, "stock")));
        }

        return (await Task.WhenAll(stocks)).Sum(stock => stock.IsNull ? 0 : (long)stock);
    }

    /// <summary>Ready + unacknowledged messages. The broker refreshes these stats every few seconds.</summary>
    public async Task<long> QueueDepthAsync(CancellationToken cancellationToken)
    {
        using var response = await _management.GetAsync(_queueUri, cancellationToken);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var queue = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
        // A queue with no traffic yet may report no "messages" field at all.
        return queue.RootElement.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Number
            ? messages.GetInt64()
            : 0;
    }

    public async ValueTask DisposeAsync()
    {
        _management.Dispose();
        foreach (var multiplexer in _redis)
        {
            if (multiplexer is not null)
            {
                await multiplexer.DisposeAsync();
            }
        }

        await _postgres.DisposeAsync();
    }

    private static async Task<HashSet<Guid>> ReadIdsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var ids = new HashSet<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    private IDatabase Shard(int shard) => _redis[shard % _redis.Length].GetDatabase();

    private static RedisKey Key(Guid campaignId, int shard, string name) => $"{{sk:{campaignId:N}:{shard}}}:{name}";
}
