using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Seckill.IntegrationTests.Fixtures;
using Seckill.Inventory;
using Seckill.Worker.Sweeping;

namespace Seckill.IntegrationTests.Housekeeping;

/// <summary>
/// Redis stays bounded by the live campaigns: once a sale has ended and every reservation is final,
/// after the retention period (seconds here, a day by default) its keys go from every shard — and
/// nothing else's, with two workers doing housekeeping at once.
/// </summary>
public class Deleting_an_ended_campaigns_keys(PipelineFixture fixture)
{
    private const int Shards = 2, Stock = 20;

    private static readonly Dictionary<string, string?> QuickHousekeeping = new()
    {
        ["Seckill:Housekeeping:Enabled"] = "true",
        ["Seckill:Housekeeping:Interval"] = "00:00:00.200",
        ["Seckill:Housekeeping:SettleAfter"] = "00:00:01",
        ["Seckill:Housekeeping:Retention"] = "00:00:02",
    };

    [Fact]
    public async Task Only_the_ended_and_final_campaign_loses_its_keys()
    {
        await fixture.InstallRejectTriggerAsync();
        var ended = await fixture.CreateCampaignAsync(Stock, Shards);
        var live = await fixture.CreateCampaignAsync(Stock, Shards);
        var unfinished = await fixture.CreateCampaignAsync(Stock, Shards);
        var client = fixture.Intake.CreateClient();
        var buyers = Enumerable.Range(0, 6).Select(i => $"hk-{Guid.NewGuid():N}-{i}").ToList();
        var rejected = $"{RejectedOrders.BuyerPrefix}{Guid.NewGuid():N}";
        var reservations = new Dictionary<string, Guid>();
        foreach (var buyer in buyers.Append(rejected))
        {
            reservations[buyer] = await (await client.BuyAsync(ended.Id, buyer)).AcceptedReservationAsync();
            await (await client.BuyAsync(live.Id, buyer)).AcceptedReservationAsync();
        }

        // An intake that died before publishing: its reservation stays open, and no sweeper runs here.
        var number = (int)await fixture.CountAsync("SELECT number FROM campaigns WHERE id = $1", unfinished.Id);
        Assert.IsType<ReserveOutcome.Reserved>(await fixture.Intake.Services.GetRequiredService<ShardReservations>()
            .ReserveAsync(new CampaignShards(unfinished.Id, number, Shards), "hk-orphan", null));
        await fixture.AssertDrainedAsync(ended.Id, Shards, Stock);
        await fixture.AssertDrainedAsync(live.Id, Shards, Stock);
        // An order awaiting payment may still give its unit back: the ended campaign's buyers all pay.
        foreach (var buyer in buyers)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.PayAsync(reservations[buyer], buyer, $"ref-{buyer}")).StatusCode);
        }

        var admin = fixture.AdminClient();
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/campaigns/{ended.Id}/end", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/campaigns/{unfinished.Id}/end", null)).StatusCode);
        Assert.NotEmpty(await KeysAsync(ended.Id));
        var liveBefore = (await KeysAsync(live.Id), await RedisSnapshot.TakeAsync(fixture, live.Id, Shards));
        var unfinishedBefore = (await KeysAsync(unfinished.Id), await RedisSnapshot.TakeAsync(fixture, unfinished.Id, Shards));

        using var first = fixture.CreateWorkerScopedTo(QuickHousekeeping, ended.Id, live.Id, unfinished.Id);
        using var second = fixture.CreateWorkerScopedTo(QuickHousekeeping, ended.Id, live.Id, unfinished.Id);
        await Task.WhenAll(first.StartAsync(), second.StartAsync());
        Assert.True(await Waiting.UntilAsync(
            async () => await fixture.CountAsync("SELECT count(*) FROM campaigns WHERE id = $1 AND archived_at IS NOT NULL", ended.Id) == 1,
            TimeSpan.FromSeconds(30)), "the ended campaign was not archived");
        // More rounds of both workers, which must find nothing else to delete.
        await Task.Delay(TimeSpan.FromSeconds(3));
        await Task.WhenAll(first.StopAsync(), second.StopAsync());

        Assert.Empty(await KeysAsync(ended.Id));
        Assert.Equal(liveBefore.Item1, await KeysAsync(live.Id));
        Assert.True(liveBefore.Item2.SameAs(await RedisSnapshot.TakeAsync(fixture, live.Id, Shards)));
        Assert.Equal(unfinishedBefore.Item1, await KeysAsync(unfinished.Id));
        Assert.True(unfinishedBefore.Item2.SameAs(await RedisSnapshot.TakeAsync(fixture, unfinished.Id, Shards)));
        Assert.Equal(0, await fixture.CountAsync(
            "SELECT count(*) FROM campaigns WHERE id = ANY($1) AND (settled_at IS NOT NULL OR archived_at IS NOT NULL)", new[] { live.Id, unfinished.Id }));

        // The sweeper's own selection no longer visits the archived campaign; the other two it still does.
        var swept = (await first.Services.GetRequiredService<ISweptCampaigns>().ListAsync(CancellationToken.None)).Select(c => c.Id).ToList();
        Assert.Equal(new[] { live.Id, unfinished.Id }.Order(), swept.Order());

        // Answered from PostgreSQL alone from now on.
        var view = (await admin.GetFromJsonAsync<CampaignJson>($"/api/campaigns/{ended.Id}"))!;
        Assert.Equal(("archived", 0, new CountsJson(buyers.Count, 0, 1, 0, buyers.Count, 0)), (view.Status, view.Shards.Count, view.Counts));
        var orders = await fixture.OrdersAsync(ended.Id);
        foreach (var buyer in buyers)
        {
            var reservation = await client.ReservationAsync(reservations[buyer], buyer);
            Assert.Equal(("paid", orders[reservations[buyer]].OrderId), (reservation!.Status, reservation.OrderId));
        }

        var purchase = await client.BuyAsync(ended.Id, "hk-after-archive");
        Assert.Equal((HttpStatusCode.Gone, "ended"), (purchase.StatusCode, (await purchase.ReadProblemAsync()).Code));
        var reconcile = await admin.PostAsync($"/api/campaigns/{ended.Id}/reconciliation", null);
        Assert.Equal((HttpStatusCode.Conflict, "archived"), (reconcile.StatusCode, (await reconcile.ReadProblemAsync()).Code));
        Assert.Empty(await KeysAsync(ended.Id));
    }

    /// <summary>
    /// A worker that died after deleting one shard's keys left its lease behind: once the lease has run
    /// out another worker finishes the job; a lease still running keeps everyone else away.
    /// </summary>
    [Fact]
    public async Task A_deletion_cut_short_by_a_crash_is_finished_by_another_worker()
    {
        var crashed = await fixture.CreateCampaignAsync(Stock, Shards);
        var leased = await fixture.CreateCampaignAsync(Stock, Shards);
        var client = fixture.Intake.CreateClient();
        for (var i = 0; i < 4; i++)
        {
            await (await client.BuyAsync(crashed.Id, $"hk-crash-{Guid.NewGuid():N}")).AcceptedReservationAsync();
            await (await client.BuyAsync(leased.Id, $"hk-lease-{Guid.NewGuid():N}")).AcceptedReservationAsync();
        }

        await fixture.AssertDrainedAsync(crashed.Id, Shards, Stock);
        await fixture.AssertDrainedAsync(leased.Id, Shards, Stock);
        foreach (var (id, leaseUntil) in new[] { (crashed.Id, "now() - interval '1 second'"), (leased.Id, "now() + interval '1 hour'") })
        {
            Assert.Equal(1, await fixture.CountAsync(
                $"WITH c AS (UPDATE campaigns SET ended_at = now() - interval '1 hour', settled_at = now() - interval '1 hour', " +
                $"failed_reservations = 0, housekeeping_lease_until = {leaseUntil} WHERE id = $1 RETURNING 1) SELECT count(*) FROM c", id));
        }

        var shardZero = (await KeysAsync(crashed.Id)).Where(k => k.StartsWith($"{{sk:{crashed.Id:N}:0}}", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(shardZero);
        await fixture.RedisForShard(0).KeyDeleteAsync([.. shardZero.Select(k => (StackExchange.Redis.RedisKey)k)]);
        var leasedBefore = await KeysAsync(leased.Id);

        using var worker = fixture.CreateWorkerScopedTo(QuickHousekeeping, crashed.Id, leased.Id);
        await worker.StartAsync();
        Assert.True(await Waiting.UntilAsync(
            async () => await fixture.CountAsync("SELECT count(*) FROM campaigns WHERE id = $1 AND archived_at IS NOT NULL", crashed.Id) == 1,
            TimeSpan.FromSeconds(30)), "the interrupted deletion was not finished");
        await Task.Delay(TimeSpan.FromSeconds(1));
        await worker.StopAsync();

        Assert.Empty(await KeysAsync(crashed.Id));
        var view = (await fixture.AdminClient().GetFromJsonAsync<CampaignJson>($"/api/campaigns/{crashed.Id}"))!;
        Assert.Equal(("archived", new CountsJson(4, 0, 0, 4, 0, 0)), (view.Status, view.Counts));
        Assert.Equal(leasedBefore, await KeysAsync(leased.Id));
        Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM campaigns WHERE id = $1 AND archived_at IS NOT NULL", leased.Id));
    }

    private async Task<List<string>> KeysAsync(Guid campaignId) =>
        [.. (await fixture.ScanKeysAsync($"{{sk:{campaignId:N}:*")).Order(StringComparer.Ordinal)];
}
