using Microsoft.AspNetCore.Http;

namespace Seckill.Http;

/// <summary>
/// Gives the framework's own error answers (unknown route, wrong method, unreadable request) the same
/// <c>code</c> and <c>type</c> as ours, on the intake and on the gateway alike: a client reads one contract
/// whichever of them answered.
/// </summary>
public static class ProblemCodes
{
    public static string TypeOf(string code) => $"urn:seckill:{code}";

    public static void FillIn(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        if (problem.Extensions.ContainsKey("code"))
        {
            return;
        }

        var code = problem.Status switch
        {
            StatusCodes.Status400BadRequest => "bad-request",
            StatusCodes.Status404NotFound => "not-found",
            StatusCodes.Status405MethodNotAllowed => "method-not-allowed",
            StatusCodes.Status413PayloadTooLarge => "body-too-large",
            StatusCodes.Status415UnsupportedMediaType => "unsupported-media-type",
            >= 500 => "internal-error",
            _ => "error",
        };
        problem.Extensions["code"] = code;
        problem.Type = TypeOf(code);
    }

    /// <summary>A request Kestrel could not read is the client's mistake and keeps its 4xx status.</summary>
    public static int StatusOf(Exception exception) => exception switch
    {
        BadHttpRequestException bad => bad.StatusCode,
        _ => StatusCodes.Status500InternalServerError,
    };
}
