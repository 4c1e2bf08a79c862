using Seckill.Intake.Payments;
using Seckill.Data;
using Seckill.Intake;
using Seckill.Intake.Campaigns;
using Seckill.Intake.Dashboard;
using Seckill.Intake.Http;
using Seckill.Intake.Purchases;
using Seckill.Intake.Reservations;
using Seckill.Inventory;
using Seckill.Messaging;
using Seckill.Intake.Metrics;
using Seckill.Observability;

var builder = WebApplication.CreateBuilder(args);
var isCommand = args is ["migrate", ..] or ["reconcile", ..];
if (isCommand)
{
    // A command's output is its answer (the reconciliation report); the host's chatter goes away.
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
}

builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = 1024 * 1024);
builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = Seckill.Http.ProblemCodes.FillIn);
builder.Services.AddOptions<AdminOptions>()
    .Bind(builder.Configuration.GetSection(AdminOptions.Section))
    .ValidateDataAnnotations()
    .ValidateOnStart();
builder.Services.AddOptions<IntakeOptions>()
    .Bind(builder.Configuration.GetSection(IntakeOptions.Section))
    .ValidateDataAnnotations()
    .ValidateOnStart();
builder.Services.AddShardedInventory(builder.Configuration);
builder.Services.AddSeckillDatabase(builder.Configuration);
builder.Services.AddSeckillBus(builder.Configuration);
builder.Services.AddScoped<CampaignCatalog>();
builder.Services.AddSingleton<InventoryReconciler>();
builder.Services.AddHostedService<PendingInventoryLoader>();
builder.Services.AddSingleton<CampaignDirectory>();
builder.Services.AddSingleton<SoldOutFlags>();
builder.Services.AddSingleton<GroupCommitPublisher>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<GroupCommitPublisher>());
builder.Services.AddSingleton<PurchaseHandler>();
builder.Services.AddSingleton<OrderPayments>();
builder.Services.AddRateLimiter(AdmissionControl.Configure);
builder.Services.AddOpenApi();
builder.Services.AddSeckillTelemetry(builder.Configuration, "seckill-intake");
builder.Services.AddHealthChecks()
    .AddCheck<RedisShardsHealthCheck>("redis", tags: [Telemetry.ReadyTag], timeout: TimeSpan.FromSeconds(5))
    .AddCheck<DatabaseHealthCheck>("postgresql", tags: [Telemetry.ReadyTag], timeout: TimeSpan.FromSeconds(5));
builder.Services.AddHostedService<ShardStockGauge>();
builder.Services.AddDashboard();

var app = builder.Build();

if (args is ["migrate", ..])
{
    await app.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(CancellationToken.None);
    return;
}

if (args is ["reconcile", var campaign, .. var flags])
{
    Environment.ExitCode = await ReconcileCommand.RunAsync(app.Services, campaign, apply: flags.Contains("--apply"));
    return;
}

app.UseExceptionHandler(new ExceptionHandlerOptions { StatusCodeSelector = Seckill.Http.ProblemCodes.StatusOf });
app.UseStatusCodePages();
app.UseDashboard();
app.UseRateLimiter();
app.MapOpenApi();
// The first health endpoint, kept for the scripts and probes that use it: the same as /health/live.
app.MapGet("/health", Telemetry.Live);
app.MapSeckillTelemetry();
app.MapCampaigns();
app.MapPurchases();
app.MapReservations();
app.MapPayments();

await app.RunAsync();

/// <summary>Entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
