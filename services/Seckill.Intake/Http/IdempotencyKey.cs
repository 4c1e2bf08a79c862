using Microsoft.AspNetCore.Http.HttpResults;

namespace Seckill.Intake.Http;

public static class IdempotencyKey
{
    public const string Header = "Idempotency-Key";
    public const int MaxLength = 128;

    /// <summary>Reads the optional header; present but empty, too long or not printable ASCII is a 400.</summary>
    public static bool TryRead(HttpRequest request, out string? key, out ProblemHttpResult? problem)
    {
        key = null;
        problem = null;
        if (!request.Headers.TryGetValue(Header, out var values))
        {
            return true;
        }

        var value = values.Count == 1 ? values[0] : null;
        if (string.IsNullOrEmpty(value) || value.Length > MaxLength || !value.All(c => c is >= '!' and <= '~'))
        {
            problem = Problems.Invalid(Header, $"{Header} must be 1 to {MaxLength} printable ASCII characters, sent once.");
            return false;
        }

        key = value;
        return true;
    }
}
