using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Seckill.Intake.Http;

/// <summary>
/// A problem answer whose text never changes (sold out, already purchased): the crowd behind a
/// sold-out campaign gets it thousands of times a second, so its JSON is built once and written
/// with a Content-Length, instead of being serialized per request. Same shape as <see cref="Problems"/>
/// answers, including the request's <c>traceId</c> the framework adds to every other problem.
/// </summary>
public sealed class FixedProblem : IResult
{
    private readonly int _status;
    private readonly byte[] _head;
    private static readonly byte[] Tail = "\"}"u8.ToArray();

    /// <summary>The problem's <c>code</c>, read by the purchase metrics.</summary>
    public string Code { get; }

    public FixedProblem(int status, string code, string title, string detail)
    {
        _status = status;
        Code = code;
        var json = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["type"] = Seckill.Http.ProblemCodes.TypeOf(code),
            ["title"] = title,
            ["status"] = status,
            ["detail"] = detail,
            ["code"] = code,
        });
        // Reopen the object for the traceId: {...,"code":"x"} becomes {...,"code":"x","traceId":"
        _head = Encoding.UTF8.GetBytes(string.Concat(json.AsSpan(0, json.Length - 1), ",\"traceId\":\""));
    }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var traceId = JsonEncodedText.Encode(Activity.Current?.Id ?? httpContext.TraceIdentifier).EncodedUtf8Bytes;
        var response = httpContext.Response;
        response.StatusCode = _status;
        response.ContentType = "application/problem+json";
        response.ContentLength = _head.Length + traceId.Length + Tail.Length;
        var body = response.BodyWriter;
        body.Write(_head);
        body.Write(traceId);
        body.Write(Tail);
        await body.FlushAsync(httpContext.RequestAborted);
    }
}
