using Yarp.ReverseProxy.Forwarder;

namespace Seckill.Gateway.Proxy;

/// <summary>
/// The connections to the intakes. Without a trace exporter nobody reads a trace, so the hop carries no
/// <c>traceparent</c>: otherwise every forwarded purchase would make the intake parse it and start its
/// request activity under a parent for nothing. With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, the context is
/// propagated and a purchase stays one trace from the gateway to the order insert.
/// </summary>
internal sealed class IntakeHttpClientFactory(bool propagateTraces) : ForwarderHttpClientFactory
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        if (!propagateTraces)
        {
            handler.ActivityHeadersPropagator = null;
        }
    }
}
