using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Seckill.Intake.Http;

/// <summary>
/// Reads a JSON request body under a byte limit, turning every client mistake (wrong content type,
/// oversized, malformed, wrong field type) into a 4xx problem that names the field.
/// </summary>
public static class JsonBody
{
    /// <summary>Strict where clients make mistakes: numbers are never read from strings, unknown fields are refused.</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General)
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        PropertyNameCaseInsensitive = true,
        NumberHandling = JsonNumberHandling.Strict,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
    };

    public readonly record struct Result<T>(T? Value, ProblemHttpResult? Problem, bool IsEmpty);

    /// <summary>Reads the body as <typeparamref name="T"/>; an absent body is reported as <c>IsEmpty</c>, not an error.</summary>
    public static async Task<Result<T>> ReadAsync<T>(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        var bytes = await ReadBytesAsync(request, maxBytes, cancellationToken);
        if (bytes.Problem is not null)
        {
            return new Result<T>(default, bytes.Problem, false);
        }

        if (bytes.Value.Length == 0)
        {
            return new Result<T>(default, null, true);
        }

        if (!IsJson(request))
        {
            return new Result<T>(default, UnsupportedMediaType(request.ContentType), false);
        }

        // The reader checks structure, not every string's encoding; a purchase body is never read further.
        if (!System.Text.Unicode.Utf8.IsValid(bytes.Value.Span))
        {
            return new Result<T>(default, Problems.Invalid("body", "The body is not valid UTF-8."), false);
        }

        try
        {
            var value = JsonSerializer.Deserialize<T>(bytes.Value.Span, Options);
            return value is null
                ? new Result<T>(default, Problems.Invalid("body", "The body must be a JSON object, not null."), false)
                : new Result<T>(value, null, false);
        }
        catch (JsonException e)
        {
            return new Result<T>(default, Malformed(e), false);
        }
    }

    private static async Task<(ReadOnlyMemory<byte> Value, ProblemHttpResult? Problem)> ReadBytesAsync(
        HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return (default, TooLarge(maxBytes));
        }

        var reader = request.BodyReader;
        while (true)
        {
            ReadResult read;
            try
            {
                read = await reader.ReadAsync(cancellationToken);
            }
            catch (BadHttpRequestException e)
            {
                return (default, e.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? TooLarge(maxBytes)
                    : Problems.Of(e.StatusCode, "bad-request", "Unreadable request body", e.Message));
            }

            var buffer = read.Buffer;
            if (buffer.Length > maxBytes)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return (default, TooLarge(maxBytes));
            }

            if (read.IsCompleted)
            {
                var copy = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return (copy, null);
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static bool IsJson(HttpRequest request) =>
        MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
        && (type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || type.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase));

    private static ProblemHttpResult TooLarge(int maxBytes) =>
        Problems.Of(StatusCodes.Status413PayloadTooLarge, "body-too-large", "Request body too large",
            $"The body may be at most {maxBytes} bytes.");

    private static ProblemHttpResult UnsupportedMediaType(string? contentType) =>
        Problems.Of(StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "Unsupported content type",
            $"Send the body as application/json, not '{contentType ?? "(none)"}'.");

    private static ProblemHttpResult Malformed(JsonException e)
    {
        // A syntax error arrives wrapped around the reader's own JsonException; a wrong type for a field does not.
        var field = e.InnerException is JsonException ? "body" : FieldOf(e.Path);
        var message = field == "body"
            ? $"The body is not valid JSON for this request (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})."
            : $"'{field}' has the wrong type or format.";
        return Problems.Invalid(field, message);
    }

    /// <summary>Maps a JSON path such as <c>$.stock</c> or <c>$['starts At']</c> to the field name clients sent.</summary>
    private static string FieldOf(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return "body";
        }

        var trimmed = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        return trimmed.Trim('[', ']', '\'');
    }
}
