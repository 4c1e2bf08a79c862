using System.Diagnostics;
using System.Threading.Channels;
using MassTransit;
using Microsoft.Extensions.Options;
using Seckill.Contracts;
using Seckill.Inventory;
using Seckill.Messaging;
using Seckill.Observability;

namespace Seckill.Intake.Purchases;

/// <summary>How a purchase's hand-off to the broker ended.</summary>
public abstract record HandOff
{
    /// <summary>The broker did not confirm in time (it may still have the message).</summary>
    public sealed record NotConfirmed : HandOff;

    /// <summary>Confirmed; the token is now in <paramref name="State"/> (null: missing).</summary>
    public sealed record Confirmed(TokenState? State) : HandOff;

    /// <summary>Confirmed, but marking the token queued failed: it stays reserved until a worker claims it.</summary>
    public sealed record ConfirmedUnmarked : HandOff;
}

/// <summary>
/// Group commit of accepted purchases. Purchases wait here for a publisher loop; while one publish is
/// in flight the next batch fills, and a free loop takes whatever is waiting (up to
/// <see cref="IntakeOptions.MaxPurchasesPerMessage"/>) at once — no fixed linger, so a lone purchase
/// at low load goes out immediately and a crowd shares one confirm per message. After the confirm the
/// tokens are marked queued with one script call per shard for the whole batch.
/// </summary>
public sealed partial class GroupCommitPublisher(
    IBus bus,
    ShardReservations reservations,
    IOptions<IntakeOptions> options,
    SeckillMetrics metrics,
    ILogger<GroupCommitPublisher> logger) : BackgroundService
{
    private readonly IntakeOptions _options = options.Value;

    // Bounded by the purchases admission control lets in at once, so a write never waits on it.
    private readonly Channel<Waiting> _waiting = Channel.CreateBounded<Waiting>(new BoundedChannelOptions(options.Value.MaxConcurrentPurchases)
    {
        FullMode = BoundedChannelFullMode.Wait,
    });

    public async Task<HandOff> HandOffAsync(SeckillAccepted accepted)
    {
        var waiting = new Waiting(accepted, Activity.Current?.Context ?? default);
        await _waiting.Writer.WriteAsync(waiting);
        return await waiting.Outcome.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.WhenAll(Enumerable.Range(0, _options.PublishConcurrency).Select(_ => PublishLoopAsync(stoppingToken)));
        // Stopping: whatever still waits was never published; its buyers are answered by the undo rules.
        _waiting.Writer.TryComplete();
        while (_waiting.Reader.TryRead(out var left))
        {
            left.Outcome.TrySetResult(new HandOff.NotConfirmed());
        }
    }

    private async Task PublishLoopAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Waiting>(_options.MaxPurchasesPerMessage);
        try
        {
            while (await _waiting.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < _options.MaxPurchasesPerMessage && _waiting.Reader.TryRead(out var next))
                {
                    batch.Add(next);
                }

                if (batch.Count == 0)
                {
                    continue;
                }

                try
                {
                    await PublishAsync(batch);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // A loop that died would leave every later buyer of this intake waiting forever.
                    LogLoopFailed(logger, e, batch.Count);
                    Complete(batch, new HandOff.NotConfirmed());
                }
                finally
                {
                    batch.Clear();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task PublishAsync(List<Waiting> batch)
    {
        // The loop runs outside every request: this span puts the message (and so the worker's consume
        // and insert) in the first purchase's trace and links the others' traces.
        using var activity = SeckillActivities.StartFor("seckill.group_commit publish", ActivityKind.Internal, [.. batch.Select(w => w.Trace)]);
        activity?.SetTag("seckill.purchases", batch.Count);
        var started = Stopwatch.GetTimestamp();
        try
        {
            // The deadline is enforced here, not by cancelling MassTransit: a cancellation that lands while
            // it declares the topology on a channel leaves that channel waiting out the client's 20 s
            // continuation timeout, and the next buyers behind it wait with it.
            var publish = batch.Count == 1
                ? bus.PublishAcceptedAsync(batch[0].Accepted, CancellationToken.None)
                : bus.PublishAcceptedAsync(new SeckillAcceptedBatch([.. batch.Select(w => w.Accepted)]), CancellationToken.None);
            await publish.WaitAsync(_options.PublishTimeout);
            metrics.Published(batch.Count, Stopwatch.GetElapsedTime(started));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogPublishFailed(logger, e, batch.Count);
            Complete(batch, new HandOff.NotConfirmed());
            return;
        }

        // The loop goes on to the next publish while these tokens are marked queued: the broker has
        // their message, so nothing the next batch does depends on this call, and its round trip to
        // Redis would otherwise be added to every batch's wait.
        _ = MarkQueuedAsync([.. batch]);
    }

    private async Task MarkQueuedAsync(Waiting[] batch)
    {
        TokenState?[] states;
        try
        {
            states = await reservations.HandOffAsync([.. batch.Select(w => new ShardReservation(w.Accepted.CampaignId, w.Accepted.Shard, w.Accepted.ReservationId))]);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The broker has the messages: whatever Redis answered, a worker claims the tokens.
            LogUnmarked(logger, e, batch.Length);
            Complete(batch, new HandOff.ConfirmedUnmarked());
            return;
        }

        for (var i = 0; i < batch.Length; i++)
        {
            batch[i].Outcome.TrySetResult(new HandOff.Confirmed(states[i]));
        }
    }

    private static void Complete(IEnumerable<Waiting> batch, HandOff outcome)
    {
        foreach (var waiting in batch)
        {
            waiting.Outcome.TrySetResult(outcome);
        }
    }

    private sealed record Waiting(SeckillAccepted Accepted, ActivityContext Trace)
    {
        // Continuations run on the pool, not inline on the publish loop that completes a whole batch.
        public TaskCompletionSource<HandOff> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing {Count} accepted purchase(s) was not confirmed; undoing each unless a worker has it")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Handing off {Count} purchase(s) failed unexpectedly; undoing each unless a worker has it")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} purchase(s) were confirmed by the broker but not marked queued; workers claim them all the same")]
    private static partial void LogUnmarked(ILogger logger, Exception exception, int count);
}
