using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using MassTransit;
using Seckill.Data;
using Seckill.Inventory;
using Seckill.Messaging;
using Seckill.Observability;
using Seckill.Worker.Compensation;
using Seckill.Worker.DeadLetters;
using Seckill.Worker.Housekeeping;
using Seckill.Worker.Orders;
using Seckill.Worker.Payments;
using Seckill.Worker.Stores;
using Seckill.Worker.Sweeping;

namespace Seckill.Worker;

/// <summary>
/// The worker host: order writing (S5) and compensation, built the same way for the process and the tests.
/// It also serves <c>/metrics</c>, <c>/health/live</c> and <c>/health/ready</c> on
/// <see cref="WorkerOptions.HttpPort"/> (tests use 0: several workers run in one test process).
/// </summary>
public static class WorkerApp
{
    /// <param name="replace">Replaces registrations after the defaults (tests narrow the sweeper to their own campaigns).</param>
    public static IHost Build(string[] args, IEnumerable<KeyValuePair<string, string?>>? settings = null, Action<IServiceCollection>? replace = null)
    {
        // The content root is the program's folder, so appsettings.json is found whatever the working directory.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        // Only the observability endpoints listen here. Read before the options exist: Kestrel is configured
        // while the host is built; a bad value stops the start with the setting's name.
        var httpPort = builder.Configuration.GetValue($"{WorkerOptions.Section}:{nameof(WorkerOptions.HttpPort)}", WorkerOptions.DefaultHttpPort);
        var httpAddressText = builder.Configuration[$"{WorkerOptions.Section}:{nameof(WorkerOptions.HttpAddress)}"] ?? "127.0.0.1";
        if (!IPAddress.TryParse(httpAddressText, out var httpAddress))
        {
            throw new InvalidOperationException($"{WorkerOptions.Section}:{nameof(WorkerOptions.HttpAddress)} '{httpAddressText}' is not an IP address.");
        }

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(httpAddress, httpPort));

        var services = builder.Services;
        services.AddOptions<WorkerOptions>()
            .Bind(builder.Configuration.GetSection(WorkerOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        // Redis and PostgreSQL start (and migrate) before the bus, so no message is taken before they answer.
        services.AddShardedInventory(builder.Configuration);
        services.AddSeckillDatabase(builder.Configuration);
        services.AddSingleton<OrderLedger>();
        services.AddSingleton<OrderPipeline>();
        services.AddSingleton<OrderRateLimiter>();
        services.AddSingleton<StoreOutage>();
        services.AddOptions<PaymentOptions>()
            .Bind(builder.Configuration.GetSection(PaymentOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton(ExpiringCampaigns.All);
        services.AddSingleton<PaymentLedger>();
        services.AddOptions<HousekeepingOptions>()
            .Bind(builder.Configuration.GetSection(HousekeepingOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<SweeperOptions>()
            .Bind(builder.Configuration.GetSection(SweeperOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSeckillBus(
            builder.Configuration,
            consumers: bus =>
            {
                bus.AddConsumer<OrderWriter>();
                bus.AddConsumer<GroupOrderWriter>();
                bus.AddConsumer<StockReturner>();
                bus.AddConsumer<DeadLetterReleaser>();
            },
            endpoints: (context, rabbit) =>
            {
                var options = context.GetRequiredService<Microsoft.Extensions.Options.IOptions<WorkerOptions>>().Value;
                rabbit.ReceiveEndpoint(SeckillTopology.OrdersQueue, endpoint =>
                {
                    SeckillTopology.ConfigureQueue(endpoint, SeckillTopology.OrdersQueue);
                    endpoint.PrefetchCount = options.EffectivePrefetch;
                    if (options.ConcurrentMessageLimit > 0)
                    {
                        endpoint.ConcurrentMessageLimit = options.ConcurrentMessageLimit;
                    }

                    // Store outages are waited out inside the consumer (StoreOutage); these retries are for
                    // anything else, after which the batch lands in seckill-orders_error, visible in the UI.
                    endpoint.UseMessageRetry(retry => retry.Intervals(100, 500, 1000));
                    endpoint.ConfigureConsumer<OrderWriter>(context, consumer => consumer.Options<BatchOptions>(batch => batch
                        .SetMessageLimit(options.BatchSize)
                        .SetTimeLimit(options.BatchTimeLimit)
                        .SetConcurrencyLimit(options.BatchConcurrency)));
                    endpoint.ConfigureConsumer<GroupOrderWriter>(context, consumer => consumer.Options<BatchOptions>(batch => batch
                        .SetMessageLimit(options.GroupMessagesPerBatch)
                        .SetTimeLimit(options.BatchTimeLimit)
                        .SetConcurrencyLimit(options.BatchConcurrency)));
                });
                rabbit.ReceiveEndpoint(SeckillTopology.StockReturnsQueue, endpoint =>
                {
                    SeckillTopology.ConfigureQueue(endpoint, SeckillTopology.StockReturnsQueue);
                    endpoint.PrefetchCount = options.CompensationConcurrency * 2;
                    endpoint.ConcurrentMessageLimit = options.CompensationConcurrency;
                    endpoint.UseMessageRetry(retry => retry.Intervals(100, 500, 1000));
                    endpoint.ConfigureConsumer<StockReturner>(context);
                });
                rabbit.ReceiveEndpoint(SeckillTopology.OrderDeadLettersQueue, endpoint =>
                {
                    SeckillTopology.ConfigureQueue(endpoint, SeckillTopology.OrderDeadLettersQueue);
                    // Only the copies of dead-lettered orders arrive here, never the live seckill-accepted traffic.
                    endpoint.ConfigureConsumeTopology = false;
                    endpoint.Bind(SeckillTopology.ErrorQueueOf(SeckillTopology.OrdersQueue));
                    endpoint.PrefetchCount = options.CompensationConcurrency * 2;
                    endpoint.ConcurrentMessageLimit = options.CompensationConcurrency;
                    endpoint.UseMessageRetry(retry => retry.Intervals(100, 500, 1000));
                    endpoint.ConfigureConsumer<DeadLetterReleaser>(context);
                });
            });
        // After the bus: the sweeper publishes the messages of reservations no intake handed off.
        services.AddSingleton<ISweptCampaigns, UnsettledCampaigns>();
        services.AddSingleton<UnsentReservationSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<UnsentReservationSweeper>());
        services.AddSingleton<IEndedCampaigns, EndedCampaignsInDatabase>();
        services.AddSingleton<CampaignLifecycle>();
        services.AddHostedService<CampaignHousekeeper>();
        services.AddHostedService<PaymentExpiry>();
        services.AddSeckillTelemetry(builder.Configuration, "seckill-worker");
        services.AddHealthChecks()
            .AddCheck<RedisShardsHealthCheck>("redis", tags: [Telemetry.ReadyTag], timeout: TimeSpan.FromSeconds(5))
            .AddCheck<DatabaseHealthCheck>("postgresql", tags: [Telemetry.ReadyTag], timeout: TimeSpan.FromSeconds(5));
        replace?.Invoke(services);
        var app = builder.Build();
        app.MapSeckillTelemetry();
        return app;
    }
}
