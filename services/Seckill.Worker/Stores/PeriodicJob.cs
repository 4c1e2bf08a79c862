namespace Seckill.Worker.Stores;

/// <summary>
/// A worker's background job that runs in rounds: the first at once (a restarted worker catches up
/// first), then one every <see cref="Interval"/>. No store error can stop the host: a failed round is
/// logged with what the failure means and the next round retries.
/// </summary>
public abstract partial class PeriodicJob(TimeProvider clock, ILogger logger) : BackgroundService
{
    /// <summary>The jobs' one clock, so tests can move time for the rounds and the work alike.</summary>
    protected TimeProvider Clock { get; } = clock;

    protected abstract bool Enabled { get; }

    protected abstract TimeSpan Interval { get; }

    /// <summary>The job's name in its log lines ("sweep", "housekeeping", …).</summary>
    protected abstract string Name { get; }

    protected abstract Task RunRoundAsync(CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            return;
        }

        do
        {
            try
            {
                await RunRoundAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogRoundFailed(logger, e, Name, StoreFailures.Classify(e));
            }
        }
        while (await WaitAsync(stoppingToken));
    }

    private async Task<bool> WaitAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(Interval, Clock, stoppingToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A {Job} round failed ({Kind}); the next round retries")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception, string job, StoreFailure kind);
}
