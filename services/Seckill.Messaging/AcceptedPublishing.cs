using MassTransit;
using Seckill.Contracts;

namespace Seckill.Messaging;

public static class AcceptedPublishing
{
    /// <summary>
    /// Publishes one accepted purchase and returns once the broker confirmed it. Mandatory: should the
    /// queue binding ever be missing, the broker returns the message and the publish fails, instead of
    /// confirming a message nobody will read.
    /// </summary>
    public static Task PublishAcceptedAsync(this IPublishEndpoint bus, SeckillAccepted accepted, CancellationToken cancellationToken) =>
        bus.Publish(accepted, context => context.Mandatory = true, cancellationToken);

    /// <inheritdoc cref="PublishAcceptedAsync(IPublishEndpoint, SeckillAccepted, CancellationToken)"/>
    public static Task PublishAcceptedAsync(this IPublishEndpoint bus, SeckillAcceptedBatch accepted, CancellationToken cancellationToken) =>
        bus.Publish(accepted, context => context.Mandatory = true, cancellationToken);
}
