using System.Collections.Concurrent;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Seckill.IntegrationTests.Fixtures;

/// <summary>
/// A private queue bound to the <c>seckill-accepted</c> exchange: it receives a copy of every
/// <c>SeckillAccepted</c> the broker routed, so a test counts its campaign's messages straight from
/// RabbitMQ without taking them from the workers' queue.
/// </summary>
public sealed class AcceptedTap : IAsyncDisposable
{
    private readonly IConnection _connection;
    private readonly IChannel _channel;
    private readonly Guid _campaignId;
    private readonly ConcurrentBag<Guid> _reservations = [];
    private readonly ConcurrentBag<Guid> _publishedAlone = [];

    private AcceptedTap(IConnection connection, IChannel channel, Guid campaignId)
    {
        _connection = connection;
        _channel = channel;
        _campaignId = campaignId;
    }

    public IReadOnlyCollection<Guid> Reservations => _reservations;

    /// <param name="virtualHost">An isolated test broker's virtual host; its intake must have started (it declares the exchange).</param>
    public static async Task<AcceptedTap> StartAsync(PipelineFixture fixture, Guid campaignId, string? virtualHost = null)
    {
        var connection = await fixture.ConnectToBrokerAsync(virtualHost);
        var channel = await connection.CreateChannelAsync();
        var tap = new AcceptedTap(connection, channel, campaignId);
        var queue = await channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true);
        await channel.QueueBindAsync(queue.QueueName, "seckill-accepted", "");
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            tap.Record(delivery.Body);
            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer);
        return tap;
    }

    /// <summary>Waits until <paramref name="expected"/> messages arrived, then a little longer to catch any extra.</summary>
    public async Task<IReadOnlyCollection<Guid>> SettleAsync(int expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (_reservations.Count < expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        await Task.Delay(500);
        return _reservations;
    }

    /// <summary>Both forms: one purchase per message, or the intake's group commit of many.</summary>
    private void Record(ReadOnlyMemory<byte> body)
    {
        using var envelope = JsonDocument.Parse(body);
        var message = envelope.RootElement.GetProperty("message");
        var grouped = message.TryGetProperty("purchases", out var many);
        var purchases = grouped ? many.EnumerateArray().ToList() : [message];
        var ours = purchases.Where(p => p.GetProperty("campaignId").GetGuid() == _campaignId).ToList();
        foreach (var purchase in ours)
        {
            var reservationId = purchase.GetProperty("reservationId").GetGuid();
            _reservations.Add(reservationId);
            if (!grouped)
            {
                _publishedAlone.Add(reservationId);
            }
        }

        if (ours.Count > 0)
        {
            Interlocked.Increment(ref _messages);
            Interlocked.Increment(ref grouped ? ref _groupedMessages : ref _singleMessages);
        }
    }

    private int _messages;
    private int _singleMessages;
    private int _groupedMessages;

    /// <summary>Messages that carried this campaign's purchases: fewer than purchases when the intake grouped them.</summary>
    public int Messages => Volatile.Read(ref _messages);

    /// <summary>Messages of the single form, <c>SeckillAccepted</c>: what intakes of an earlier version publish.</summary>
    public int SingleMessages => Volatile.Read(ref _singleMessages);

    /// <summary>Messages of the group-commit form, <c>SeckillAcceptedBatch</c>, whatever number of purchases each carried.</summary>
    public int GroupedMessages => Volatile.Read(ref _groupedMessages);

    /// <summary>The reservations that came in a single-form message.</summary>
    public IReadOnlyCollection<Guid> PublishedAlone => _publishedAlone;

    public async ValueTask DisposeAsync()
    {
        await _channel.CloseAsync();
        await _connection.CloseAsync();
        _channel.Dispose();
        _connection.Dispose();
    }
}
