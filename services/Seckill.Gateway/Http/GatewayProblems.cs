using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Seckill.Gateway.Http;

/// <summary>
/// The gateway's own error answers, in the intake's shape (docs/api.md, Errors): <c>application/problem+json</c>
/// with <c>code</c>, <c>type</c> = <c>urn:seckill:{code}</c> and the request's <c>traceId</c>, so a client
/// cannot tell whether the gateway or an intake refused it, and switches on the same fields.
/// </summary>
public static class GatewayProblems
{
    public const string Unauthorized = "unauthorized";
    public const string RateLimited = "rate-limited";
    public const string IntakeUnavailable = "intake-unavailable";
    public const string IntakeFailed = "intake-failed";
    public const string NotFound = "not-found";

    /// <summary>400 <c>invalid-request</c> naming the offending field, in the intake's validation shape.</summary>
    public static Task WriteInvalidAsync(HttpContext context, string field, string message) =>
        WriteAsync(context, StatusCodes.Status400BadRequest, "invalid-request", $"Invalid {field}", message,
            extensions: new Dictionary<string, object> { ["errors"] = new Dictionary<string, string[]> { [field] = [message] } });

    public static async Task WriteAsync(HttpContext context, int status, string code, string title, string detail, TimeSpan? retryAfter = null,
        IReadOnlyDictionary<string, object>? extensions = null)
    {
        var response = context.Response;
        response.StatusCode = status;
        if (retryAfter is { } wait)
        {
            // Whole seconds, at least one: a client told "0" would come back at once and meet the same refusal.
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        var body = new Dictionary<string, object>
        {
            ["type"] = Seckill.Http.ProblemCodes.TypeOf(code),
            ["title"] = title,
            ["status"] = status,
            ["detail"] = detail,
            ["code"] = code,
            ["traceId"] = Activity.Current?.Id ?? context.TraceIdentifier,
        };
        foreach (var (name, value) in extensions ?? new Dictionary<string, object>())
        {
            body[name] = value;
        }

        await response.WriteAsJsonAsync(body, JsonSerializerOptions.Web, "application/problem+json", context.RequestAborted);
    }
}
