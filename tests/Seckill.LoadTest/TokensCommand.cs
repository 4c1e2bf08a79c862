using System.Globalization;
using System.Text;

namespace Seckill.LoadTest;

/// <summary>
/// <c>tokens --count N --prefix P --out FILE</c>: N buyer tokens, one per line, for a load tool that cannot sign
/// (wrk). Batch mode here rather than in the gateway's token command: one process and one key load for
/// hundreds of thousands of tokens, and the gateway's own command stays the one-token tool for people.
/// </summary>
internal static class TokensCommand
{
    private const string Usage = "Usage: tokens --count N --prefix P --out FILE [--token-key PATH] [--env-file PATH] [--token-minutes M]";

    public static int Run(string[] args)
    {
        int? count = null;
        string? prefix = null, outFile = null, keyPath = null, envFile = null;
        var minutes = 120.0;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--count" when int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 10_000_000:
                    count = n;
                    break;
                case "--prefix" when value is not null:
                    prefix = value;
                    break;
                case "--out" when value is not null:
                    outFile = value;
                    break;
                case "--token-key" when value is not null:
                    keyPath = value;
                    break;
                case "--env-file" when value is not null:
                    envFile = value;
                    break;
                case "--token-minutes" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var m) && m is >= 1 and <= 7 * 24 * 60:
                    minutes = m;
                    break;
                default:
                    Console.Error.WriteLine($"error: unexpected or invalid argument '{args[i]}'. {Usage}");
                    return 2;
            }

            i++;
        }

        if (count is null || prefix is null || outFile is null)
        {
            Console.Error.WriteLine($"error: --count, --prefix and --out are required. {Usage}");
            return 2;
        }

        try
        {
            var settings = ServiceSettings.Load(envFile, ServiceSettings.FindRepoRoot());
            var tokenSettings = TokenSettings.From(settings, keyPath, minutes)
                ?? throw new UsageException("No signing key: pass --token-key, or set Seckill__Gateway__SigningKeyPath in the env file.");
            var lines = new string[count.Value];
            var times = BuyerIdentity.MintInto(tokenSettings, count.Value, i => prefix + i.ToString(CultureInfo.InvariantCulture), (i, token) => lines[i] = token);
            File.WriteAllLines(outFile, lines, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            Console.Error.WriteLine($"tokens: {times} → {outFile}");
            return 0;
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }
}
