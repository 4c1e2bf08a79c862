using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Seckill.Inventory;

public static class InventoryRegistration
{
    public static IServiceCollection AddShardedInventory(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RedisShardOptions>()
            .Bind(configuration.GetSection(RedisShardOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<ShardConnections>();
        services.AddHostedService(sp => sp.GetRequiredService<ShardConnections>());
        services.AddSingleton<VirtualInventory>();
        return services;
    }
}
