using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Seckill.Data;
using Seckill.Inventory;
using Seckill.Observability;

namespace Seckill.Intake.Metrics;

/// <summary>
/// <c>seckill.shard.virtual_stock{campaign,shard}</c> for the campaigns whose stock is loaded and whose
/// sale is on (started, not closed). A scrape reads the last snapshot; Redis and PostgreSQL are read here, every
/// <see cref="Refresh"/>, whatever the number of scrapers or shards.
/// </summary>
public sealed partial class ShardStockGauge : BackgroundService
{
    public static readonly TimeSpan Refresh = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The newest open campaigns only: campaigns left open without an end would otherwise grow the
    /// series (and the Redis reads) without bound.
    /// </summary>
    public const int MaxCampaigns = 20;

    private readonly IDbContextFactory<SeckillDbContext> _contexts;
    private readonly VirtualInventory _inventory;
    private readonly TimeProvider _clock;
    private readonly ILogger<ShardStockGauge> _logger;
    private volatile Measurement<long>[] _last = [];

    public ShardStockGauge(IDbContextFactory<SeckillDbContext> contexts, VirtualInventory inventory, TimeProvider clock, SeckillMetrics metrics, ILogger<ShardStockGauge> logger)
    {
        _contexts = contexts;
        _inventory = inventory;
        _clock = clock;
        _logger = logger;
        metrics.Meter.CreateObservableGauge("seckill.shard.virtual_stock", () => _last, "{unit}", "Units of virtual stock left on each shard of each open campaign.");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Refresh, _clock);
        do
        {
            try
            {
                _last = await ReadAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
            {
                // A store that is down shows in readiness; the gauge keeps its last values meanwhile.
                LogReadFailed(_logger, e);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<Measurement<long>[]> ReadAsync(CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken);
        var open = await db.Campaigns.AsNoTracking()
            .Where(c => c.InventoryLoadedAt != null && c.StartsAt <= now && (c.EndedAt == null || c.EndedAt > now) && (c.EndsAt == null || c.EndsAt > now))
            .OrderByDescending(c => c.StartsAt)
            .Take(MaxCampaigns)
            .Select(c => new { c.Id, c.ShardCount })
            .ToListAsync(cancellationToken);
        var measurements = new List<Measurement<long>>();
        foreach (var campaign in open)
        {
            var id = campaign.Id.ToString();
            foreach (var shard in await _inventory.ReadAsync(campaign.Id, campaign.ShardCount))
            {
                measurements.Add(new Measurement<long>(shard.VirtualStock,
                    new KeyValuePair<string, object?>("campaign", id), new KeyValuePair<string, object?>("shard", shard.Index)));
            }
        }

        return [.. measurements];
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the shards' virtual stock for the gauge failed; keeping the last values")]
    private static partial void LogReadFailed(ILogger logger, Exception exception);
}
