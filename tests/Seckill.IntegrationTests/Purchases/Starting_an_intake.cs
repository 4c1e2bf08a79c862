using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Purchases;

/// <summary>A wrong endpoint stops start-up with a message naming it, instead of failing the first buyer.</summary>
public class Starting_an_intake(PipelineFixture fixture)
{
    [Fact]
    public async Task With_an_unreachable_redis_shard_fails_naming_it()
    {
        await using var intake = fixture.CreateIntake(new Dictionary<string, string?> { ["Seckill:Redis:Shards:1"] = "127.0.0.1:1" });

        var failure = Record.Exception(() => intake.Server);

        Assert.NotNull(failure);
        Assert.Contains("Seckill:Redis:Shards:1", Flatten(failure), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_an_unreachable_broker_fails_naming_it()
    {
        await using var intake = fixture.CreateIntake(new Dictionary<string, string?>
        {
            ["Seckill:RabbitMq:Port"] = "1",
            ["Seckill:RabbitMq:StartTimeout"] = "00:00:03",
        });

        var failure = Record.Exception(() => intake.Server);

        Assert.NotNull(failure);
        Assert.Contains("127.0.0.1:1", Flatten(failure), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_an_admin_key_fails_naming_it()
    {
        await using var intake = fixture.CreateIntake(new Dictionary<string, string?> { ["Seckill:AdminKey"] = "" });

        var failure = Record.Exception(() => intake.Server);

        Assert.NotNull(failure);
        Assert.Contains("AdminKey", Flatten(failure), StringComparison.Ordinal);
    }

    private static string Flatten(Exception e) => e.InnerException is null ? e.Message : $"{e.Message} | {Flatten(e.InnerException)}";
}
