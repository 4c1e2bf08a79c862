namespace Seckill.Worker.Stores;

/// <summary>
/// The worker's circuit breaker for PostgreSQL and Redis outages. Work that meets one (as
/// <see cref="StoreFailures"/> decides) waits with growing pauses (up to 5 s) and tries again, holding
/// its messages unacknowledged: every batch slot is then occupied, so consumption stops and the rest
/// stays queued. Nothing is failed or moved to an error queue because a store is down; the work
/// resumes by itself when it is back.
/// </summary>
public sealed partial class StoreOutage(ILogger<StoreOutage> logger)
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(5);

    public async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        var pause = FirstPause;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await work(cancellationToken);
            }
            catch (Exception e) when (StoreFailures.IsOutage(e) && !cancellationToken.IsCancellationRequested)
            {
                LogWaiting(logger, attempt, pause.TotalMilliseconds, e.Message);
                await Task.Delay(pause, cancellationToken);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, LongestPause.Ticks));
            }
        }
    }

    public Task RunAsync(Func<CancellationToken, Task> work, CancellationToken cancellationToken) =>
        RunAsync(async token =>
        {
            await work(token);
            return true;
        }, cancellationToken);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A store is unavailable (attempt {Attempt}); holding the messages and retrying in {PauseMs} ms: {Reason}")]
    private static partial void LogWaiting(ILogger logger, int attempt, double pauseMs, string reason);
}
