using Seckill.Gateway.Http;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Seckill.Gateway.Proxy;

/// <summary>
/// The first step of the proxy pipeline: retries a request the chosen intake never received, and turns
/// every forwarding failure into a problem answer with <c>Retry-After</c> instead of YARP's empty 502/503.
/// </summary>
/// <remarks>
/// Only a failed connect is retried, on another intake and for any method: nothing was sent, so nothing can
/// have been reserved. A failure after the request may have left the gateway (reset mid-request, no answer,
/// timeout) is never retried here: the intake may have reserved a unit for it (a reservation it could not
/// publish is handed on by the sweeper), and a second attempt elsewhere without the buyer's
/// <c>Idempotency-Key</c> would be refused as already-purchased at best. The buyer gets 502
/// <c>intake-failed</c>; retrying with the same <c>Idempotency-Key</c> returns the same reservation if one was made.
/// </remarks>
internal static class ProxyFailures
{
    public static async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        var proxy = context.GetReverseProxyFeature();
        var candidates = proxy.AvailableDestinations;
        if (candidates.Count > 1 && HasBody(context.Request))
        {
            // A request can only be sent twice if its body can be read twice; bodies here are small (≤ 1 MiB).
            context.Request.EnableBuffering();
        }

        List<DestinationState>? tried = null;
        while (true)
        {
            await next();
            var error = context.GetForwarderErrorFeature();
            if (error is null || context.Response.HasStarted)
            {
                return;
            }

            if (NeverReachedTheIntake(error) && proxy.ProxiedDestination is { } failed && !context.RequestAborted.IsCancellationRequested)
            {
                (tried ??= []).Add(failed);
                var others = candidates.Where(d => !tried.Contains(d) && d.Health.Passive != DestinationHealth.Unhealthy).ToList();
                if (others.Count > 0 && (!context.Request.Body.CanSeek || context.Request.Body.Position == 0 || Rewind(context.Request)))
                {
                    proxy.AvailableDestinations = others;
                    context.Features.Set<IForwarderErrorFeature>(null);
                    context.Response.StatusCode = StatusCodes.Status200OK;
                    continue;
                }
            }

            await AnswerAsync(context, error);
            return;
        }
    }

    /// <summary>The connect failed: the intake cannot have seen a byte of the request.</summary>
    public static bool NeverReachedTheIntake(IForwarderErrorFeature? error) =>
        error is { Error: ForwarderError.Request, Exception: HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } };

    private static Task AnswerAsync(HttpContext context, IForwarderErrorFeature error)
    {
        if (context.RequestAborted.IsCancellationRequested)
        {
            // The client is gone; nobody reads an answer.
            return Task.CompletedTask;
        }

        // Whatever the failed attempt left on the response (YARP's status, copied headers) is not the answer.
        context.Response.Clear();
        return error.Error switch
        {
            ForwarderError.NoAvailableDestinations => Unavailable(context, "No intake is available right now."),
            _ when NeverReachedTheIntake(error) => Unavailable(context, "No intake could be reached; the request was not processed."),
            ForwarderError.RequestBodyClient or ForwarderError.RequestBodyCanceled or ForwarderError.RequestCanceled =>
                GatewayProblems.WriteAsync(context, StatusCodes.Status400BadRequest, "bad-request", "Bad request", "The request body could not be read."),
            _ => GatewayProblems.WriteAsync(context, StatusCodes.Status502BadGateway, GatewayProblems.IntakeFailed, "Intake failed",
                "The intake did not answer; the request may or may not have been processed. Retry with the same Idempotency-Key to get its outcome.",
                TimeSpan.FromSeconds(1)),
        };
    }

    private static Task Unavailable(HttpContext context, string detail) =>
        GatewayProblems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, GatewayProblems.IntakeUnavailable, "Service unavailable",
            detail, TimeSpan.FromSeconds(1));

    private static bool HasBody(HttpRequest request) => request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0;

    private static bool Rewind(HttpRequest request)
    {
        request.Body.Position = 0;
        return true;
    }
}
