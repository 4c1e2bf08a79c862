using Seckill.Gateway;

namespace Seckill.IntegrationTests.Gateway;

/// <summary>Like every local server, the gateway binds loopback unless told otherwise (README, Security).</summary>
public class Listening_on_loopback
{
    [Fact]
    public async Task Without_urls_the_gateway_binds_127_0_0_1()
    {
        Assert.SkipWhen(Environment.GetEnvironmentVariable("ASPNETCORE_URLS") is not null, "ASPNETCORE_URLS is set in this environment");
        await using var app = GatewayApp.Build([], new Dictionary<string, string?> { ["Seckill:Gateway:Intakes:0"] = "http://127.0.0.1:1" });
        Assert.Equal("http://127.0.0.1:5000", app.Configuration["urls"]);

        await using var told = GatewayApp.Build(["--urls", "http://127.0.0.1:5999"], new Dictionary<string, string?> { ["Seckill:Gateway:Intakes:0"] = "http://127.0.0.1:1" });
        Assert.Equal("http://127.0.0.1:5999", told.Configuration["urls"]);
    }
}
