using MassTransit;
using Seckill.Data;
using Seckill.Inventory;
using Seckill.Messaging;
using Seckill.Worker.Compensation;
using Seckill.Worker.Orders;
using Seckill.Worker.Sweeping;

namespace Seckill.Worker;

/// <summary>The worker host: order writing (S5) and compensation, built the same way for the process and the tests.</summary>
public static class WorkerApp
{
    public static IHost Build(string[] args, IEnumerable<KeyValuePair<string, string?>>? settings = null)
    {
        // The content root is the program's folder, so appsettings.json is found whatever the working directory.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        var services = builder.Services;
        services.AddOptions<WorkerOptions>()
            .Bind(builder.Configuration.GetSection(WorkerOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        // Redis and PostgreSQL start (and migrate) before the bus, so no message is taken before they answer.
        services.AddShardedInventory(builder.Configuration);
        services.AddSeckillDatabase(builder.Configuration);
        services.AddSingleton<OrderLedger>();
        services.AddSingleton<OrderRateLimiter>();
        services.AddSingleton<StoreOutage>();
        services.AddOptions<SweeperOptions>()
            .Bind(builder.Configuration.GetSection(SweeperOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<PendingReservationSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<PendingReservationSweeper>());
        services.AddSeckillBus(
            builder.Configuration,
            consumers: bus =>
            {
                bus.AddConsumer<OrderWriter>();
                bus.AddConsumer<StockReturner>();
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
                });
                rabbit.ReceiveEndpoint(SeckillTopology.StockReturnsQueue, endpoint =>
                {
                    SeckillTopology.ConfigureQueue(endpoint, SeckillTopology.StockReturnsQueue);
                    endpoint.PrefetchCount = options.CompensationConcurrency * 2;
                    endpoint.ConcurrentMessageLimit = options.CompensationConcurrency;
                    endpoint.UseMessageRetry(retry => retry.Intervals(100, 500, 1000));
                    endpoint.ConfigureConsumer<StockReturner>(context);
                });
            });
        return builder.Build();
    }
}
