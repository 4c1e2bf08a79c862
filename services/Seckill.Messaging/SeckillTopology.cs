using MassTransit;
using Seckill.Contracts;

namespace Seckill.Messaging;

/// <summary>
/// Queue names and arguments shared by every process. Publishers declare the same queues as the
/// consumers, with identical arguments, so a message published before any worker ever started is
/// queued rather than dropped by an exchange with no binding.
/// </summary>
public static class SeckillTopology
{
    public const string OrdersQueue = "seckill-orders";
    public const string StockReturnsQueue = "seckill-stock-returns";

    /// <summary>
    /// A copy of everything that lands in <c>seckill-orders_error</c>, for the dead-letter releaser:
    /// the <c>_error</c> queue keeps its copy for the operator.
    /// </summary>
    public const string OrderDeadLettersQueue = "seckill-orders-dead-letters";
    public const string AcceptedExchange = "seckill-accepted";
    public const string StockReturnRequestedExchange = "seckill-stock-return-requested";

    /// <summary>
    /// Quorum queues count deliveries; past this many (a consumer crashing on a message over and
    /// over) the broker dead-letters the message into the queue's <c>_error</c> queue instead of looping.
    /// </summary>
    public const int DeliveryLimit = 10;

    public static string ErrorQueueOf(string queue) => $"{queue}_error";

    public static void Configure(IRabbitMqBusFactoryConfigurator bus)
    {
        bus.Message<SeckillAccepted>(m => m.SetEntityName(AcceptedExchange));
        // The group-commit envelope travels the same exchange into the same queue: an operator sees
        // one seckill-accepted stream, and workers of either version find every purchase in one place.
        bus.Message<SeckillAcceptedBatch>(m => m.SetEntityName(AcceptedExchange));
        bus.Message<StockReturnRequested>(m => m.SetEntityName(StockReturnRequestedExchange));
        // BindQueue binds the queue to the exchange it names, so it must name the message's own exchange.
        // The worker adds its endpoint exchange in between; RabbitMQ still delivers one copy per queue.
        bus.Publish<SeckillAccepted>(p =>
        {
            p.BindQueue(AcceptedExchange, OrdersQueue, q => ConfigureQueue(q, OrdersQueue));
            DeclareErrorQueue(p, OrdersQueue);
            // Declared by publishers too, so a message dead-lettered before any worker started is still released.
            p.BindQueue(ErrorQueueOf(OrdersQueue), OrderDeadLettersQueue, q => ConfigureQueue(q, OrderDeadLettersQueue));
            DeclareErrorQueue(p, OrderDeadLettersQueue);
        });
        bus.Publish<StockReturnRequested>(p =>
        {
            p.BindQueue(StockReturnRequestedExchange, StockReturnsQueue, q => ConfigureQueue(q, StockReturnsQueue));
            DeclareErrorQueue(p, StockReturnsQueue);
        });
        bus.DeployPublishTopology = true;
    }

    /// <summary>
    /// The dead-letter target must exist before the first message exceeds the delivery limit, or the
    /// broker drops it. MassTransit gives <c>_error</c> queues the arguments of their queue, so these match.
    /// </summary>
    private static void DeclareErrorQueue<T>(IRabbitMqMessagePublishTopologyConfigurator<T> publish, string queue)
        where T : class
    {
        var error = ErrorQueueOf(queue);
        publish.BindQueue(error, error, q => ConfigureQueue(q, queue));
    }

    /// <summary>Durable quorum queue with a delivery limit that dead-letters into its <c>_error</c> queue.</summary>
    public static void ConfigureQueue(IRabbitMqQueueConfigurator queue, string name)
    {
        queue.Durable = true;
        queue.AutoDelete = false;
        queue.SetQuorumQueue();
        queue.SetQueueArgument("x-delivery-limit", DeliveryLimit);
        queue.SetQueueArgument("x-dead-letter-exchange", ErrorQueueOf(name));
    }
}
