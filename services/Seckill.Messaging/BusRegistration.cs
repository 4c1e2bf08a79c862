using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Seckill.Messaging;

public static class BusRegistration
{
    /// <summary>
    /// MassTransit on RabbitMQ with publisher confirms, the shared topology, and a start-up that
    /// waits for the broker: a wrong endpoint stops the process instead of failing the first buyer.
    /// </summary>
    public static IServiceCollection AddSeckillBus(
        this IServiceCollection services,
        IConfiguration configuration,
        Action<IBusRegistrationConfigurator>? consumers = null,
        Action<IBusRegistrationContext, IRabbitMqBusFactoryConfigurator>? endpoints = null)
    {
        services.AddOptions<RabbitMqOptions>()
            .Bind(configuration.GetSection(RabbitMqOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.AddMassTransit(bus =>
        {
            // The machines running a sale talk only to their own servers; no usage reports leave them.
            bus.DisableUsageTelemetry();
            consumers?.Invoke(bus);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                var options = context.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
                rabbit.Host(options.Host, (ushort)options.Port, options.VirtualHost, host =>
                {
                    host.Username(options.Username);
                    host.Password(options.Password);
                    // A 202 is only given after the broker has the message: confirms stay on.
                    host.PublisherConfirmation = true;
                    host.RequestedConnectionTimeout(TimeSpan.FromSeconds(5));
                });
                SeckillTopology.Configure(rabbit);
                endpoints?.Invoke(context, rabbit);
            });
        });

        services.AddOptions<MassTransitHostOptions>().Configure<IOptions<RabbitMqOptions>>((host, rabbit) =>
        {
            host.WaitUntilStarted = true;
            host.StartTimeout = rabbit.Value.StartTimeout;
            host.StopTimeout = TimeSpan.FromSeconds(30);
        });
        return services;
    }
}
