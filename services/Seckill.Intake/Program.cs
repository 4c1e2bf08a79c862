using Seckill.Data;
using Seckill.Intake;
using Seckill.Intake.Campaigns;
using Seckill.Intake.Http;
using Seckill.Inventory;

var builder = WebApplication.CreateBuilder(args);

builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = 1024 * 1024);
builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = ProblemCodes.FillIn);
builder.Services.AddOptions<AdminOptions>()
    .Bind(builder.Configuration.GetSection(AdminOptions.Section))
    .ValidateDataAnnotations()
    .ValidateOnStart();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddShardedInventory(builder.Configuration);
builder.Services.AddSeckillDatabase(builder.Configuration);
builder.Services.AddScoped<CampaignCatalog>();
builder.Services.AddHostedService<PendingInventoryLoader>();
builder.Services.AddOpenApi();
builder.Services.AddHealthChecks();

var app = builder.Build();

if (args is ["migrate", ..])
{
    await app.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(CancellationToken.None);
    return;
}

app.UseExceptionHandler(new ExceptionHandlerOptions { StatusCodeSelector = ProblemCodes.StatusOf });
app.UseStatusCodePages();
app.MapOpenApi();
app.MapHealthChecks("/health");
app.MapCampaigns();

await app.RunAsync();

/// <summary>Entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
