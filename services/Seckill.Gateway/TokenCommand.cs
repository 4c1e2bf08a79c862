using System.Globalization;
using Seckill.Gateway.Tokens;

namespace Seckill.Gateway;

/// <summary><c>token --user alice [--minutes 10]</c>: prints a buyer token signed with the local key, nothing else.</summary>
internal static class TokenCommand
{
    public static int Run(IConfiguration configuration, string[] args, TextWriter output, TextWriter error)
    {
        string? user = null;
        var minutes = 10.0;
        for (var i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--user" when i + 1 < args.Length:
                    user = args[++i];
                    break;
                case "--minutes" when i + 1 < args.Length
                    && double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var m) && m > 0 && m <= 7 * 24 * 60:
                    minutes = m;
                    i++;
                    break;
                default:
                    error.WriteLine($"unexpected argument '{args[i]}'. Usage: token --user <id> [--minutes <1..10080>]");
                    return 2;
            }
        }

        if (!BuyerTokens.IsValidUserId(user))
        {
            error.WriteLine($"--user needs 1 to {BuyerTokens.MaxUserIdLength} printable ASCII characters. Usage: token --user <id> [--minutes <1..10080>]");
            return 2;
        }

        // Bound without the host's validation: minting needs neither the intakes nor the public key.
        var options = configuration.GetSection(GatewayOptions.Section).Get<GatewayOptions>();
        if (options is null || string.IsNullOrWhiteSpace(options.SigningKeyPath) || !File.Exists(options.SigningKeyPath))
        {
            error.WriteLine("Seckill:Gateway:SigningKeyPath must name the private key file (bash infra/services.sh up writes .local/gateway-signing-key.pem and puts its path in .local/seckill.env).");
            return 2;
        }

        using var tokens = BuyerTokens.FromPrivateKeyPem(options.SigningKeyPath, options.Issuer, options.Audience);
        output.WriteLine(tokens.Issue(user, TimeSpan.FromMinutes(minutes)));
        return 0;
    }
}
