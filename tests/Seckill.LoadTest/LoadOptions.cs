using System.Globalization;

namespace Seckill.LoadTest;

public enum SalePattern
{
    Burst,
    Ramp,
    Constant,
}

/// <summary>The command line, already validated.</summary>
public sealed record LoadOptions
{
    public Uri Intake { get; init; } = new("http://127.0.0.1:5080");
    public string? EnvFile { get; init; }
    public Guid? CampaignId { get; init; }
    public int Stock { get; init; } = 10_000;
    public int? Shards { get; init; }
    public int Buyers { get; init; } = 100_000;
    public double Repeats { get; init; } = 0.05;
    public SalePattern Pattern { get; init; } = SalePattern.Burst;
    public double Rate { get; init; } = 2000;
    public double RampSeconds { get; init; } = 10;
    public int Concurrency { get; init; } = 256;
    public double DrainStallSeconds { get; init; } = 60;
    public double DrainTimeoutSeconds { get; init; }
    public string? OutDir { get; init; }
    public bool NoLive { get; init; }
    public double PayShare { get; init; } = 0.8;
    public double PayDelayMaxSeconds { get; init; } = 5;
    public int PaymentWindowSeconds { get; init; } = 600;
    public int ResaleWaves { get; init; } = 1;
    public string? TokenKey { get; init; }

    /// <summary>Null: tokens when a signing key is known, otherwise <c>X-User-Id</c>.</summary>
    public BuyerAuth? Auth { get; init; }

    public double TokenMinutes { get; init; } = 120;

    /// <summary>A folder where minted tokens are kept for the next run (minting 100,000 RS256 tokens takes tens of seconds).</summary>
    public string? TokenCache { get; init; }

    public int RepeatRequests => (int)Math.Round(Buyers * Repeats);

    public const string Help = """
        Seckill.LoadTest: simulates a flash sale against a running intake, waits for the pipeline to
        drain, checks the invariants from the stores themselves and writes a report.

        Usage:
          dotnet run -c Release --project tests/Seckill.LoadTest -- [options]

        Options:
          --intake URL           the gateway's or one intake's base URL (default http://127.0.0.1:5080, where
                                 infra/run.sh starts the gateway)
          --auth A               token    each buyer sends Authorization: Bearer <its own token>, as the
                                          gateway requires (default when a signing key is known)
                                 user-id  each buyer sends X-User-Id, as an intake reached directly
                                          expects (default otherwise)
          --token-key PATH       the gateway's private signing key (PEM) to mint the buyers' tokens with
                                 (default: Seckill__Gateway__SigningKeyPath from the env file, which
                                 infra/services.sh up writes); every buyer's token is minted before the
                                 sale starts, and the time it took is printed
          --token-minutes M      lifetime of the buyers' tokens (default 120; they must outlive the run)
          --token-cache DIR      keep the minted tokens in DIR (valid 24 h) and reuse them while they are
                                 valid for M more minutes: only the first run pays for minting
          --env-file PATH        KEY='value' lines (default: <repo root>/.local/seckill.env; the repo root
                                 is the folder holding Seckill.Pipeline.sln, searched upward from the
                                 current folder and from the program's folder); environment variables of
                                 the same names override it
          --campaign ID          use this existing campaign; otherwise one is created via the admin API:
          --stock N                units of the new campaign (default 10000)
          --shards M               shards of the new campaign (default: omitted, the intake uses one
                                   shard per Redis endpoint)
          --payment-window S       seconds a winner has to pay once its order is written (30 to 86400,
                                   default 600); an existing campaign keeps its own
          --buyers N             distinct buyers buyer-000000 … (default 100000)
          --repeats F            extra requests from buyers already seen, as a fraction of --buyers
                                 (default 0.05); shuffled in with a fixed seed
          --pattern P            burst    all at once, limited by --concurrency (default)
                                 ramp     linear 0 → --rate over --ramp-seconds, then hold
                                 constant --rate requests/s
          --rate R               requests/s for constant and ramp (default 2000)
          --ramp-seconds S       default 10
          --concurrency C        max requests in flight (default 256)
          --pay-share F          share of the winners that pay (0 to 1, default 0.8); the rest let the
                                 payment deadline pass, so their units return to the shards
          --pay-delay-max S      each winner polls its reservation until its order is written, then a
                                 payer waits a random delay in [0, S] seconds and pays (default 5)
          --resale-waves N       after the sale, wait until no order awaits payment (every payer paid,
                                 every other order expired and its unit returned), then send the buyers
                                 who were told sold-out again, until one is told sold-out anew; repeated
                                 N times (0 to 10, default 1). The last wave's winners all pay, so the
                                 run ends with nothing left to expire. Each wave waits out the payment
                                 window: with the default 600 s window that is 10 minutes a wave. No
                                 wave is sent (nor waited for) when no buyer was told sold-out
          --drain-stall S        give the drain up after S seconds without progress: no order written, no
                                 pending token settled, no change in the queue depth (default 60). A
                                 rate-limited drain may take minutes and is waited for as long as it moves;
                                 make S longer than the workers' Seckill__Sweeper__PendingTimeout when
                                 unpublished tokens must be swept before the drain can end
          --drain-timeout S      give the drain up after S seconds in all, moving or not (default 0: no limit)
          --out DIR              report folder (default <repo root>/.local/reports/<yyyyMMdd-HHmmss>)
          --no-live              plain progress lines (automatic when stdout is not a terminal)
          -h, --help             this text

        Drained means: queue seckill-orders empty, every shard's pending-token counter 0, and the
        number of orders unchanged for 1 s. The sale and every resale wave are drained.

        An order is awaiting-payment, paid or payment-expired; an expired order's unit goes back to its
        shard and may be sold again (resold). Resold units: orders written for reservations accepted in
        a resale wave, i.e. units released by expiry and sold again.

        Checks: drain complete (and, before each resale wave, the payment window closed);
                I1 campaigns.sold == paid + awaiting-payment ≤ stock (no oversell);
                I2 one order per buyer: orders of any status == distinct buyers with orders (a buyer
                  whose order expired may not buy again);
                I3 stock == paid + awaiting-payment + Σ virtual stock of the shards (every unit is paid
                  for, held for a payment, or on sale);
                expired units returned: every payment-expired order has its unit back (unit_returned_at)
                  and orders of any status ≤ stock + those units (a released unit is sold again at most once);
                payments recorded: every 200 to a payment is a paid order, every payment-expired answer an
                  expired order, and no order of a winner that did not pay is paid;
                every 202 accounted: each 202's reservation id has an order (of any status), or its token
                  ended failed with an explicit refusal (write-failed, duplicate-buyer, sold-out-in-database);
                  accepted == orders + refused, per reservation. Orders whose reservation no 202 named
                  (e.g. a client-side timeout that was written) are reported, not failed.

        Tokens for another tool (the bench's wrk script), one per line, buyer <prefix><n> on line n (from 0):
          dotnet …/Seckill.LoadTest.dll tokens --count N --prefix P --out FILE
                                       [--token-key PATH] [--env-file PATH] [--token-minutes M]

        Exit codes: 0 all checks PASS, 1 a check FAILED or the drain did not complete,
                    2 usage error / cannot reach services.
        """;

    /// <summary>Null when help was asked for.</summary>
    public static LoadOptions? Parse(IReadOnlyList<string> args)
    {
        var options = new LoadOptions();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                return null;
            }

            string name;
            string? inlineValue = null;
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                name = arg[..equals];
                inlineValue = arg[(equals + 1)..];
            }
            else
            {
                name = arg;
            }

            if (!seen.Add(name))
            {
                throw new UsageException($"{name} is given twice.");
            }

            if (name == "--no-live")
            {
                options = inlineValue is null ? options with { NoLive = true } : throw new UsageException("--no-live takes no value.");
                continue;
            }

            string Value()
            {
                if (inlineValue is not null)
                {
                    return inlineValue;
                }

                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new UsageException($"{name} needs a value.");
                }

                return args[++i];
            }

            options = name switch
            {
                "--intake" => options with { Intake = ParseUrl(name, Value()) },
                "--env-file" => options with { EnvFile = Value() },
                "--campaign" => options with { CampaignId = Guid.TryParse(Value(), out var id) ? id : throw new UsageException("--campaign must be a campaign id (a GUID).") },
                "--stock" => options with { Stock = ParseInt(name, Value(), 1, 10_000_000) },
                "--shards" => options with { Shards = ParseInt(name, Value(), 1, 1024) },
                "--buyers" => options with { Buyers = ParseInt(name, Value(), 1, 100_000_000) },
                "--repeats" => options with { Repeats = ParseDouble(name, Value(), 0, 100) },
                "--pattern" => options with { Pattern = ParsePattern(Value()) },
                "--rate" => options with { Rate = ParseDouble(name, Value(), 0.001, 10_000_000) },
                "--ramp-seconds" => options with { RampSeconds = ParseDouble(name, Value(), 0.001, 86_400) },
                "--concurrency" => options with { Concurrency = ParseInt(name, Value(), 1, 100_000) },
                "--payment-window" => options with { PaymentWindowSeconds = ParseInt(name, Value(), 30, 86_400) },
                "--pay-share" => options with { PayShare = ParseDouble(name, Value(), 0, 1) },
                "--pay-delay-max" => options with { PayDelayMaxSeconds = ParseDouble(name, Value(), 0, 3_600) },
                "--resale-waves" => options with { ResaleWaves = ParseInt(name, Value(), 0, 10) },
                "--drain-stall" => options with { DrainStallSeconds = ParseDouble(name, Value(), 1, 86_400) },
                "--drain-timeout" => options with { DrainTimeoutSeconds = ParseDouble(name, Value(), 0, 86_400) },
                "--out" => options with { OutDir = Value() },
                "--auth" => options with { Auth = ParseAuth(Value()) },
                "--token-key" => options with { TokenKey = Value() },
                "--token-minutes" => options with { TokenMinutes = ParseDouble(name, Value(), 1, 7 * 24 * 60) },
                "--token-cache" => options with { TokenCache = Value() },
                _ => throw new UsageException($"Unknown option '{arg}'."),
            };
        }

        if (options.CampaignId is not null && (seen.Contains("--stock") || seen.Contains("--shards") || seen.Contains("--payment-window")))
        {
            throw new UsageException("--stock, --shards and --payment-window describe a new campaign; they cannot be combined with --campaign.");
        }

        if (options.Pattern == SalePattern.Burst && (seen.Contains("--rate") || seen.Contains("--ramp-seconds")))
        {
            throw new UsageException("--rate and --ramp-seconds apply to --pattern ramp or constant, not burst.");
        }

        if (options.Pattern == SalePattern.Constant && seen.Contains("--ramp-seconds"))
        {
            throw new UsageException("--ramp-seconds applies to --pattern ramp only.");
        }

        if (options.Auth == BuyerAuth.UserId && (seen.Contains("--token-key") || seen.Contains("--token-minutes") || seen.Contains("--token-cache")))
        {
            throw new UsageException("--token-key, --token-minutes and --token-cache apply to --auth token, not user-id.");
        }

        return options;
    }

    private static BuyerAuth ParseAuth(string value) => value switch
    {
        "token" => BuyerAuth.Token,
        "user-id" => BuyerAuth.UserId,
        _ => throw new UsageException($"--auth must be token or user-id, not '{value}'."),
    };

    private static Uri ParseUrl(string name, string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new UsageException($"{name} must be an http(s) URL, not '{value}'.");

    private static int ParseInt(string name, string value, int min, int max) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max
            ? number
            : throw new UsageException($"{name} must be a whole number from {min} to {max}, not '{value}'.");

    private static double ParseDouble(string name, string value, double min, double max) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max
            ? number
            : throw new UsageException($"{name} must be a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}, not '{value}'.");

    private static SalePattern ParsePattern(string value) => value switch
    {
        "burst" => SalePattern.Burst,
        "ramp" => SalePattern.Ramp,
        "constant" => SalePattern.Constant,
        _ => throw new UsageException($"--pattern must be burst, ramp or constant, not '{value}'."),
    };
}

/// <summary>A wrong command line or settings that cannot work: exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>A service the run needs cannot be reached: exit code 2.</summary>
public sealed class ServiceUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
