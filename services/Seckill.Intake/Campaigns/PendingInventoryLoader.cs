using Microsoft.EntityFrameworkCore;
using Seckill.Data;

namespace Seckill.Intake.Campaigns;

/// <summary>
/// Completes campaigns whose row was written but whose virtual stock load was interrupted, so a
/// half-created campaign is finished without an admin having to notice it.
/// </summary>
public sealed partial class PendingInventoryLoader(IServiceScopeFactory scopes, TimeProvider clock, ILogger<PendingInventoryLoader> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    // A creation still in flight is left to its own request; only one this old was abandoned.
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                await LoadPendingAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Whatever a store answers, the intake keeps serving buyers; the next round retries.
                LogLoadFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task LoadPendingAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SeckillDbContext>();
        var catalog = scope.ServiceProvider.GetRequiredService<CampaignCatalog>();
        var abandonedBefore = clock.GetUtcNow() - Grace;
        var pending = await db.Campaigns
            .Where(c => c.InventoryLoadedAt == null && c.CreatedAt < abandonedBefore)
            .OrderBy(c => c.CreatedAt)
            .Take(50)
            .ToListAsync(cancellationToken);
        foreach (var campaign in pending)
        {
            await catalog.LoadInventoryAsync(campaign, cancellationToken);
            LogCompleted(logger, campaign.Id);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Loading the virtual stock of a half-created campaign failed; will retry")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Completed the virtual stock load of campaign {CampaignId}")]
    private static partial void LogCompleted(ILogger logger, Guid campaignId);
}
