using Microsoft.EntityFrameworkCore;
using Seckill.Data;

namespace Seckill.Worker.Housekeeping;

/// <summary>
/// The campaign row's lifecycle columns, each change one conditional UPDATE so that any number of
/// workers can run housekeeping at once: whoever changes a row first wins, the others change nothing.
/// </summary>
public sealed class CampaignLifecycle(IDbContextFactory<SeckillDbContext> databases)
{
    public async Task MarkSettledAsync(Guid id, DateTimeOffset now, CancellationToken cancellationToken) =>
        await UpdateAsync(c => c.Id == id && c.SettledAt == null, set => set.SetProperty(c => c.SettledAt, now), cancellationToken);

    /// <summary>A worker that takes the lease deletes the keys; one that crashed loses it when it runs out.</summary>
    public async Task<bool> TryLeaseAsync(Guid id, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken) =>
        await UpdateAsync(
            c => c.Id == id && c.ArchivedAt == null && c.SettledAt != null && (c.HousekeepingLeaseUntil == null || c.HousekeepingLeaseUntil < now),
            set => set.SetProperty(c => c.HousekeepingLeaseUntil, until),
            cancellationToken) == 1;

    public async Task RenewLeaseAsync(Guid id, DateTimeOffset until, CancellationToken cancellationToken) =>
        await UpdateAsync(c => c.Id == id && c.ArchivedAt == null, set => set.SetProperty(c => c.HousekeepingLeaseUntil, until), cancellationToken);

    /// <summary>
    /// Found not final after all (a reservation made late, a shard restored from an old copy): back to
    /// the sweeper's care, and the retention period starts again once it settles.
    /// </summary>
    public async Task UnsettleAsync(Guid id, CancellationToken cancellationToken) =>
        await UpdateAsync(
            c => c.Id == id && c.ArchivedAt == null,
            set => set.SetProperty(c => c.SettledAt, (DateTimeOffset?)null).SetProperty(c => c.HousekeepingLeaseUntil, (DateTimeOffset?)null),
            cancellationToken);

    /// <summary>Kept from the first attempt: a resumed deletion reads counters already partly deleted.</summary>
    public async Task RecordFailedAsync(Guid id, long failed, CancellationToken cancellationToken) =>
        await UpdateAsync(c => c.Id == id && c.FailedReservations == null, set => set.SetProperty(c => c.FailedReservations, failed), cancellationToken);

    public async Task MarkArchivedAsync(Guid id, DateTimeOffset now, CancellationToken cancellationToken) =>
        await UpdateAsync(
            c => c.Id == id && c.ArchivedAt == null,
            set => set.SetProperty(c => c.ArchivedAt, now).SetProperty(c => c.HousekeepingLeaseUntil, (DateTimeOffset?)null),
            cancellationToken);

    private async Task<int> UpdateAsync(
        System.Linq.Expressions.Expression<Func<Campaign, bool>> where,
        Action<Microsoft.EntityFrameworkCore.Query.UpdateSettersBuilder<Campaign>> set,
        CancellationToken cancellationToken)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        return await db.Campaigns.Where(where).ExecuteUpdateAsync(set, cancellationToken);
    }
}
