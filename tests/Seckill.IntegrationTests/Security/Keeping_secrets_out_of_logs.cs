using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Security;

public class Keeping_secrets_out_of_logs(PipelineFixture fixture)
{
    [Fact]
    public async Task No_key_or_password_appears_in_any_log_line()
    {
        var logs = new CapturedLogs();
        await using var intake = fixture.CreateIntake().WithWebHostBuilder(host => host.ConfigureServices(services =>
            services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(logs))));
        var admin = fixture.AdminClient(intake);
        var campaign = await admin.CreateCampaignAsync(stock: 2, shards: 2);
        var buyer = intake.CreateClient();
        await (await buyer.BuyAsync(campaign.Id, "logged")).AcceptedReservationAsync();
        await buyer.BuyAsync(campaign.Id, "logged");
        var intruder = intake.CreateClient();
        intruder.DefaultRequestHeaders.Add("X-Admin-Key", fixture.AdminKey + "-guess");
        await intruder.GetAsync("/api/campaigns");
        await admin.PostAsJsonAsync("/api/campaigns", new { name = "", stock = -1 });

        var secrets = Secrets();
        Assert.NotEmpty(logs.Lines);
        foreach (var line in logs.Lines)
        {
            Assert.DoesNotContain(secrets, secret => line.Contains(secret, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_failed_start_names_the_endpoint_but_not_its_password()
    {
        const string password = "redis-password-that-must-not-leak";
        await using var intake = fixture.CreateIntake(new Dictionary<string, string?> { ["Seckill:Redis:Shards:0"] = $"127.0.0.1:1,password={password}" });

        var failure = Record.Exception(() => intake.Server);

        Assert.NotNull(failure);
        var text = failure.ToString();
        Assert.Contains("127.0.0.1:1", text, StringComparison.Ordinal);
        Assert.DoesNotContain(password, text, StringComparison.Ordinal);
    }

    private string[] Secrets()
    {
        var postgres = new NpgsqlConnectionStringBuilder(fixture.Settings["ConnectionStrings:Seckill"]).Password;
        return new[] { fixture.AdminKey, postgres, fixture.Settings["Seckill:RabbitMq:Password"] }
            .Where(s => !string.IsNullOrEmpty(s) && s.Length >= 6)
            .Select(s => s!)
            .ToArray();
    }
}
