using Microsoft.AspNetCore.Http.HttpResults;

namespace Seckill.Intake.Http;

/// <summary>
/// Every error answer is <c>application/problem+json</c> with a machine-readable <c>code</c>; <c>type</c> is
/// <c>urn:seckill:{code}</c>, so clients can switch on either.
/// </summary>
public static class Problems
{
    public static ProblemHttpResult Of(int status, string code, string title, string? detail = null, IDictionary<string, object?>? extensions = null)
    {
        var all = new Dictionary<string, object?>(extensions ?? new Dictionary<string, object?>()) { ["code"] = code };
        return TypedResults.Problem(detail: detail, statusCode: status, title: title, type: Seckill.Http.ProblemCodes.TypeOf(code), extensions: all);
    }

    /// <summary>400 naming the offending fields, in the shape of a validation problem.</summary>
    public static ProblemHttpResult Invalid(IReadOnlyDictionary<string, string[]> errors)
    {
        var fields = string.Join(", ", errors.Keys);
        var detail = string.Join(" ", errors.Values.SelectMany(m => m));
        return Of(StatusCodes.Status400BadRequest, "invalid-request", $"Invalid {fields}", detail,
            new Dictionary<string, object?> { ["errors"] = errors });
    }

    public static ProblemHttpResult Invalid(string field, string message) =>
        Invalid(new Dictionary<string, string[]> { [field] = [message] });

    public static ProblemHttpResult NotFound(string what, string detail) =>
        Of(StatusCodes.Status404NotFound, "not-found", $"{what} not found", detail);
}
