using MassTransit;
using Seckill.Contracts;

namespace Seckill.Worker.Orders;

/// <summary>
/// Writes the intakes' group-commit messages, each carrying many purchases; a few messages are taken
/// at once so a transaction holds about <see cref="WorkerOptions.BatchSize"/> orders.
/// </summary>
public sealed class GroupOrderWriter(OrderPipeline pipeline) : IConsumer<Batch<SeckillAcceptedBatch>>
{
    public Task Consume(ConsumeContext<Batch<SeckillAcceptedBatch>> context) =>
        pipeline.WriteAsync(context.Message.SelectMany(m => m.Message.Purchases), context, context.CancellationToken);
}
