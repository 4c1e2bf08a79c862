using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Seckill.Intake.Http;

/// <summary>Guards the admin routes with <c>X-Admin-Key</c>, compared in constant time.</summary>
public sealed class AdminKeyFilter(IOptions<AdminOptions> options) : IEndpointFilter
{
    public const string Header = "X-Admin-Key";

    // Hashing both sides first makes the comparison length-independent as well as constant-time.
    private readonly byte[] _expected = SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.AdminKey));

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var presented = context.HttpContext.Request.Headers[Header].ToString();
        var actual = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        if (presented.Length == 0 || !CryptographicOperations.FixedTimeEquals(actual, _expected))
        {
            return ValueTask.FromResult<object?>(Problems.Of(StatusCodes.Status401Unauthorized, "unauthorized",
                "Admin key required", $"Send the configured admin key in the {Header} header."));
        }

        return next(context);
    }
}
