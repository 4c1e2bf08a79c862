using System.Net.Http.Json;
using Npgsql;

namespace Seckill.IntegrationTests.Fixtures;

/// <summary>Reads the stores directly, so tests check the invariants from PostgreSQL and Redis rather than from HTTP answers.</summary>
public static class Stores
{
    public static string ShardKey(Guid campaignId, int shard, string suffix) => $"{{sk:{campaignId:N}:{shard}}}:{suffix}";

    public static async Task<long?> VirtualStockAsync(this PipelineFixture fixture, Guid campaignId, int shard) =>
        (long?)await fixture.RedisForShard(shard).StringGetAsync(ShardKey(campaignId, shard, "stock"));

    public static async Task<long> CountAsync(this PipelineFixture fixture, string sql, params object[] parameters)
    {
        await using var command = fixture.Database.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Every campaign that has virtual stock in Redis has its row in PostgreSQL. Rows are written
    /// before stock, so this holds at every instant, even while other tests create campaigns.
    /// </summary>
    public static async Task AssertNoOrphanStockAsync(this PipelineFixture fixture)
    {
        var ids = (await fixture.ScanKeysAsync("{sk:*}:stock"))
            .Select(key => Guid.ParseExact(key.Split(':')[1], "N"))
            .Distinct()
            .ToArray();
        if (ids.Length == 0)
        {
            return;
        }

        var known = await fixture.CountAsync("SELECT count(*) FROM campaigns WHERE id = ANY($1)", ids);
        Assert.Equal(ids.Length, known);
    }

    public static async Task<ProblemJson> ReadProblemAsync(this HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<ProblemJson>();
        Assert.NotNull(problem);
        Assert.Equal((int)response.StatusCode, problem.Status);
        Assert.Equal($"urn:seckill:{problem.Code}", problem.Type);
        return problem;
    }
}
