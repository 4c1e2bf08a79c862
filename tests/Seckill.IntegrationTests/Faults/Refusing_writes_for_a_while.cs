using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Seckill.IntegrationTests.Fixtures;
using Seckill.Worker;
using Seckill.Worker.Sweeping;

namespace Seckill.IntegrationTests.Faults;

/// <summary>
/// PostgreSQL refuses this campaign's order writes for a few seconds in the middle of the drain, as a
/// primary turned read-only standby during a failover or a database too slow for the statement
/// timeout would. The database is shared by the tests running beside this one, so the fault is a
/// test-only trigger on <c>orders</c> that acts only while <c>test_write_faults</c> names the
/// campaign; every other campaign's insert passes straight through it.
/// </summary>
public class Refusing_writes_for_a_while(PipelineFixture fixture)
{
    private const int Stock = 600, Shards = 4;

    [Fact]
    public async Task Read_only_pauses_the_drain_fails_nothing_and_it_completes()
    {
        await DrainThroughAFaultAsync("read-only", "25006", connection => connection);
    }

    [Fact]
    public async Task Statement_timeout_pauses_the_drain_fails_nothing_and_it_completes()
    {
        await DrainThroughAFaultAsync("slow", "57014", connection =>
        {
            // Only the worker's own sessions time out: PostgreSQL itself cancels the insert the trigger holds up.
            connection.Options = "-c statement_timeout=1000";
            return connection;
        });
    }

    private async Task DrainThroughAFaultAsync(string fault, string sqlState, Func<NpgsqlConnectionStringBuilder, NpgsqlConnectionStringBuilder> workerConnection)
    {
        await InstallWriteFaultTriggerAsync();
        await using var broker = await IsolatedBroker.CreateAsync(fixture);
        await using var intake = fixture.CreateIntake(broker.Settings);
        var campaign = await fixture.CreateCampaignAsync(Stock, Shards);
        try
        {
            var client = intake.CreateClient();
            var responses = await Task.WhenAll(Enumerable.Range(0, Stock).Select(i => client.BuyAsync(campaign.Id, $"refused-for-a-while-{i}")));
            var accepted = new HashSet<Guid>();
            foreach (var response in responses)
            {
                accepted.Add(await response.AcceptedReservationAsync());
            }

            Assert.Equal(Stock, accepted.Count);

            var connection = workerConnection(new NpgsqlConnectionStringBuilder(fixture.Settings["ConnectionStrings:Seckill"]));
            if (connection.Options is not null)
            {
                await AssertTheServerAppliesAsync(connection);
            }

            var logs = new CapturedLogs();
            using var worker = WorkerApp.Build([], fixture.With(new Dictionary<string, string?>(broker.Settings)
            {
                ["ConnectionStrings:Seckill"] = connection.ConnectionString,
                // The schema is migrated by the fixture; a migration lock waited on under a 1 s statement timeout would only fail the start.
                ["Seckill:Database:MigrateOnStart"] = "false",
                ["Seckill:Worker:MaxOrdersPerSecond"] = "60",
                ["Seckill:Worker:BatchSize"] = "20",
            }), services =>
            {
                services.AddSingleton<ISweptCampaigns>(new OnlyTheseCampaigns([]));
                services.AddLogging(logging => logging.AddProvider(logs));
            });
            await worker.StartAsync();
            Assert.True(await Waiting.UntilAsync(async () => await fixture.SoldAsync(campaign.Id) >= 30, TimeSpan.FromSeconds(60)),
                "the worker never started writing");

            await SetFaultAsync(campaign.Id, fault);
            Assert.True(await Waiting.UntilAsync(() => Task.FromResult(OutageLines(logs, sqlState) > 0), TimeSpan.FromSeconds(30)),
                $"the worker never met SQLSTATE {sqlState}");
            // A batch that inserted its rows before the fault row was committed may still commit; after that nothing may.
            await Task.Delay(TimeSpan.FromSeconds(1));
            var ordersWhenRefused = await OrdersAsync(campaign.Id);
            await Task.Delay(TimeSpan.FromSeconds(4));
            Assert.Equal(ordersWhenRefused, await OrdersAsync(campaign.Id));
            Assert.True(ordersWhenRefused < Stock - 100, $"the fault must come in the middle of the drain, but {ordersWhenRefused} of {Stock} were written");
            Assert.True(OutageLines(logs, sqlState) >= 2, "the refused batch must have been retried while the fault lasted");
            Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders_error"));
            await ClearFaultAsync(campaign.Id);

            var redis = await fixture.AssertDrainedAsync(campaign.Id, Shards, Stock, TimeSpan.FromSeconds(120));
            await worker.StopAsync();

            var orders = await OrderIdsByReservationAsync(campaign.Id);
            Assert.Equal(accepted.Order(), orders.Keys.Order());
            Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM released_reservations WHERE campaign_id = $1", campaign.Id));
            Assert.Equal(0, redis.TotalStock);
            Assert.Equal(Stock, redis.ParsedTokens.Count());
            foreach (var (key, fields) in redis.ParsedTokens)
            {
                var reservation = Guid.ParseExact(key[(key.LastIndexOf(':') + 1)..], "N");
                Assert.Equal("confirmed", fields["s"]);
                Assert.Equal(orders[reservation].ToString("D"), fields["o"]);
            }

            for (var shard = 0; shard < Shards; shard++)
            {
                Assert.Equal(0, (long?)await fixture.RedisForShard(shard).StringGetAsync(Stores.ShardKey(campaign.Id, shard, "failed")) ?? 0);
            }

            Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders"));
            Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-orders_error"));
            Assert.Equal(0u, await broker.ReadyMessagesAsync("seckill-stock-returns"));
        }
        finally
        {
            await ClearFaultAsync(campaign.Id);
        }
    }

    /// <summary>Proves the connection-string option reaches PostgreSQL, so a 57014 can only come from the worker's own timeout.</summary>
    private static async Task AssertTheServerAppliesAsync(NpgsqlConnectionStringBuilder connection)
    {
        await using var probe = new NpgsqlConnection(connection.ConnectionString);
        await probe.OpenAsync();
        await using var show = new NpgsqlCommand("SHOW statement_timeout", probe);
        Assert.Equal("1s", await show.ExecuteScalarAsync());
    }

    private static int OutageLines(CapturedLogs logs, string sqlState) =>
        logs.Lines.Count(line => line.Contains("StoreOutage", StringComparison.Ordinal) && line.Contains(sqlState, StringComparison.Ordinal));

    private Task<long> OrdersAsync(Guid campaignId) =>
        fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1", campaignId);

    private async Task<Dictionary<Guid, Guid>> OrderIdsByReservationAsync(Guid campaignId)
    {
        await using var command = fixture.Database.CreateCommand("SELECT reservation_id, id FROM orders WHERE campaign_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = campaignId });
        var orders = new Dictionary<Guid, Guid>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            // Add, not an indexer: a second order for one reservation must fail the test.
            orders.Add(reader.GetGuid(0), reader.GetGuid(1));
        }

        return orders;
    }

    private async Task SetFaultAsync(Guid campaignId, string fault)
    {
        await using var command = fixture.Database.CreateCommand("INSERT INTO test_write_faults (campaign_id, fault) VALUES ($1, $2)");
        command.Parameters.Add(new NpgsqlParameter { Value = campaignId });
        command.Parameters.Add(new NpgsqlParameter { Value = fault });
        await command.ExecuteNonQueryAsync();
    }

    private async Task ClearFaultAsync(Guid campaignId)
    {
        await using var command = fixture.Database.CreateCommand("DELETE FROM test_write_faults WHERE campaign_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = campaignId });
        await command.ExecuteNonQueryAsync();
    }

    // The "slow" fault sleeps far past the worker's statement timeout, so only PostgreSQL's own
    // cancellation (57014) ends the insert; a missing timeout would hang the drain, not pass it.
    private Task InstallWriteFaultTriggerAsync() =>
        fixture.InstallOrderTriggerAsync("test_refuse_writes",
            """
            DECLARE
              wanted text;
            BEGIN
              SELECT fault INTO wanted FROM test_write_faults WHERE campaign_id = NEW.campaign_id;
              IF wanted = 'read-only' THEN
                RAISE EXCEPTION 'test fault: campaign % is on a read-only server', NEW.campaign_id USING ERRCODE = 'read_only_sql_transaction';
              ELSIF wanted = 'slow' THEN
                PERFORM pg_sleep(30);
              END IF;
              RETURN NEW;
            END
            """,
            setup: "CREATE TABLE IF NOT EXISTS test_write_faults (campaign_id uuid PRIMARY KEY, fault text NOT NULL);");
}
