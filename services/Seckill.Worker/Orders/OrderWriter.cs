using MassTransit;
using Seckill.Contracts;

namespace Seckill.Worker.Orders;

/// <summary>
/// Writes purchases published one per message: by intakes of an earlier version (a rolling upgrade),
/// by the sweeper, and a lone purchase at low load. MassTransit gathers them into batches.
/// </summary>
public sealed class OrderWriter(OrderPipeline pipeline) : IConsumer<Batch<SeckillAccepted>>
{
    public Task Consume(ConsumeContext<Batch<SeckillAccepted>> context) =>
        pipeline.WriteAsync(context.Message.Select(m => m.Message), context, context.CancellationToken);
}
