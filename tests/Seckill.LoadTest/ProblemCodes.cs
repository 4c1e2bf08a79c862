using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace Seckill.LoadTest;

/// <summary>
/// Problem codes as small ids, so the per-request record stays a few bytes and the known codes
/// cost no string allocation; a code the intake adds later still gets its own id.
/// </summary>
public sealed class ProblemCodes
{
    public const int None = 0;
    public const int Timeout = 1;
    public const int ConnectionFailed = 2;
    public const int Unreadable = 3;

    private static readonly string[] Known =
    [
        "", "(timeout)", "(connection failed)", "(no problem code)",
        "sold-out", "already-purchased", "throttled", "broker-unavailable", "busy", "not-found",
        "not-started", "ended", "invalid-request", "unauthorized", "body-too-large", "unsupported-media-type",
        "not-ready", "already-paid", "payment-expired", "reservation-failed",
    ];

    // Looked up rather than numbered by hand, so a code inserted above cannot shift them; declared after Known,
    // which static initialisation (in textual order) needs filled first.
    public static readonly int SoldOut = Array.IndexOf(Known, "sold-out");
    public static readonly int NotReady = Array.IndexOf(Known, "not-ready");
    public static readonly int AlreadyPaid = Array.IndexOf(Known, "already-paid");
    public static readonly int PaymentExpired = Array.IndexOf(Known, "payment-expired");
    public static readonly int ReservationFailed = Array.IndexOf(Known, "reservation-failed");

    private static readonly byte[][] KnownUtf8 = [.. Known.Select(Encoding.UTF8.GetBytes)];

    private readonly ConcurrentDictionary<string, int> _others = new(StringComparer.Ordinal);
    private readonly List<string> _names = [.. Known];
    private readonly Lock _adding = new();

    public string NameOf(int id)
    {
        lock (_adding)
        {
            return _names[id];
        }
    }

    public int Identify(ReadOnlySpan<byte> problemJson)
    {
        try
        {
            var reader = new Utf8JsonReader(problemJson);
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1 || !reader.ValueTextEquals("code"u8))
                {
                    continue;
                }

                if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                {
                    return Unreadable;
                }

                for (var id = Unreadable + 1; id < KnownUtf8.Length; id++)
                {
                    if (reader.ValueTextEquals(KnownUtf8[id]))
                    {
                        return id;
                    }
                }

                return IdOf(reader.GetString() ?? "");
            }
        }
        catch (JsonException)
        {
            // A truncated or non-JSON body (a proxy's HTML page) still counts, as "no problem code".
        }

        return Unreadable;
    }

    private int IdOf(string code) => _others.GetOrAdd(code, name =>
    {
        lock (_adding)
        {
            _names.Add(name);
            return _names.Count - 1;
        }
    });
}
