using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Seckill.Intake.Http;

/// <summary>
/// The buyer's identity, set by the gateway that authenticated them (patent step S2). The intake
/// trusts it, which is why it must only ever be reachable through that gateway.
/// </summary>
public static class BuyerId
{
    public const string Header = "X-User-Id";
    public const int MaxLength = 64;

    public static bool TryRead(HttpRequest request, [NotNullWhen(true)] out string? userId, [NotNullWhen(false)] out ProblemHttpResult? problem)
    {
        var values = request.Headers[Header];
        var value = values.Count == 1 ? values[0] : null;
        if (string.IsNullOrWhiteSpace(value) || value.Length > MaxLength || !value.All(c => c is >= ' ' and <= '~'))
        {
            userId = null;
            problem = Problems.Invalid(Header, $"{Header} must be sent once, with 1 to {MaxLength} printable ASCII characters.");
            return false;
        }

        userId = value;
        problem = null;
        return true;
    }
}
