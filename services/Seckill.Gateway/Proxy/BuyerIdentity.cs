using Seckill.Gateway.Auth;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Seckill.Gateway.Proxy;

/// <summary>
/// The request transform that makes the intake's trust in <c>X-User-Id</c> safe: whatever the client sent
/// under that name is dropped on every route, and buyer routes get the token's <c>sub</c> instead.
/// </summary>
internal static class BuyerIdentity
{
    public static void Apply(TransformBuilderContext builder)
    {
        var access = builder.Route.Metadata?.GetValueOrDefault(IntakeRoutes.AccessKey);
        var setsBuyer = access is IntakeRoutes.Buyer or IntakeRoutes.Purchase;
        // No X-Forwarded-*: the intake reads none of them, and each one is parsed on every purchase.
        builder.UseDefaultForwarders = false;
        builder.AddRequestTransform(transform =>
        {
            var headers = transform.ProxyRequest.Headers;
            headers.Remove(IntakeRoutes.BuyerHeader);
            // The intake never reads a bearer token; not forwarding it keeps buyers' tokens out of its logs.
            headers.Authorization = null;
            if (setsBuyer && transform.HttpContext.User.FindFirst(BuyerAuthentication.SubjectClaim)?.Value is { } subject)
            {
                headers.TryAddWithoutValidation(IntakeRoutes.BuyerHeader, subject);
            }

            return ValueTask.CompletedTask;
        });
    }
}
