using System.Net;
using System.Net.Http.Json;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Campaigns;

public class Retrying_a_campaign_creation(PipelineFixture fixture)
{
    private readonly HttpClient _admin = fixture.AdminClient();

    [Fact]
    public async Task With_the_same_key_returns_the_same_campaign_once()
    {
        var key = Guid.NewGuid().ToString();
        var first = await PostAsync(new { name = "retried", stock = 8, shards = 2 }, key);
        var second = await PostAsync(new { name = "retried", stock = 8, shards = 2 }, key);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        var a = await first.Content.ReadFromJsonAsync<CampaignJson>(TestContext.Current.CancellationToken);
        var b = await second.Content.ReadFromJsonAsync<CampaignJson>(TestContext.Current.CancellationToken);
        Assert.Equal(a!.Id, b!.Id);
        Assert.Equal(1, await fixture.CountAsync("SELECT count(*) FROM campaigns WHERE creation_key = $1", key));
        Assert.Equal(4, await fixture.VirtualStockAsync(a.Id, 0));
        Assert.Equal(4, await fixture.VirtualStockAsync(a.Id, 1));
    }

    [Fact]
    public async Task With_the_same_key_and_other_values_is_refused()
    {
        var key = Guid.NewGuid().ToString();
        await PostAsync(new { name = "original", stock = 8, shards = 2 }, key);

        var response = await PostAsync(new { name = "original", stock = 9, shards = 2 }, key);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("idempotency-key-reused", (await response.ReadProblemAsync()).Code);
        Assert.Equal(1, await fixture.CountAsync("SELECT count(*) FROM campaigns WHERE creation_key = $1", key));
    }

    [Fact]
    public async Task After_an_interrupted_load_completes_the_missing_shards_without_touching_loaded_ones()
    {
        // A creation that crashed after writing the row and the first shard: shard 0 holds 4, shards 1-2 nothing.
        var key = Guid.NewGuid().ToString();
        var id = Guid.NewGuid();
        await using (var insert = fixture.Database.CreateCommand(
            "INSERT INTO campaigns (id, name, total_stock, sold, shard_count, starts_at, created_at, creation_key) " +
            "VALUES ($1, 'interrupted', 10, 0, 3, now(), now(), $2)"))
        {
            insert.Parameters.Add(new Npgsql.NpgsqlParameter { Value = id });
            insert.Parameters.Add(new Npgsql.NpgsqlParameter { Value = key });
            await insert.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        await fixture.RedisForShard(0).StringSetAsync(Stores.ShardKey(id, 0, "stock"), 4);
        var loading = await _admin.GetFromJsonAsync<CampaignJson>($"/api/campaigns/{id}", TestContext.Current.CancellationToken);
        Assert.Equal("loading", loading!.Status);

        var response = await PostAsync(new { name = "interrupted", stock = 10, shards = 3 }, key);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(id, (await response.Content.ReadFromJsonAsync<CampaignJson>(TestContext.Current.CancellationToken))!.Id);
        Assert.Equal(4, await fixture.VirtualStockAsync(id, 0));
        Assert.Equal(3, await fixture.VirtualStockAsync(id, 1));
        Assert.Equal(3, await fixture.VirtualStockAsync(id, 2));
        Assert.Equal(1, await fixture.CountAsync("SELECT count(*) FROM campaigns WHERE id = $1 AND inventory_loaded_at IS NOT NULL", id));
    }

    private Task<HttpResponseMessage> PostAsync(object body, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/campaigns") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        return _admin.SendAsync(request, TestContext.Current.CancellationToken);
    }
}
