using System.Text;

namespace Seckill.Gateway.Http;

/// <summary>
/// Header values must be ASCII. Kestrel reads them as Latin-1 (see <see cref="GatewayApp"/>) so that a request
/// with other bytes reaches this check and gets a 400 problem answer naming the header; by default Kestrel
/// itself refuses such a request with an empty 400 that no client can switch on, and forwarding the bytes
/// would make the proxy's own HTTP client fail with a 5xx.
/// </summary>
internal static class AsciiHeaders
{
    public static readonly Func<string, Encoding?> Latin1 = _ => Encoding.Latin1;

    public static Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        foreach (var (name, values) in context.Request.Headers)
        {
            foreach (var value in values)
            {
                if (value is not null && !Ascii.IsValid(value))
                {
                    return GatewayProblems.WriteInvalidAsync(context, name, $"{name} must hold ASCII characters only.");
                }
            }
        }

        return next(context);
    }
}
