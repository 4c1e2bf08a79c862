using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Seckill.Inventory;

public static class InventoryRegistration
{
    public static IServiceCollection AddShardedInventory(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RedisShardOptions>()
            .Bind(configuration.GetSection(RedisShardOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ShardConnections>();
        services.AddHostedService(sp => sp.GetRequiredService<ShardConnections>());
        services.AddOptions<ReservationOptions>()
            .Bind(configuration.GetSection(ReservationOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<VirtualInventory>();
        services.AddSingleton<ShardReservations>();
        services.AddSingleton<ShardArchive>();
        services.AddSingleton<SearchWatch>();
        return services;
    }
}
