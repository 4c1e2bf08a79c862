using System.ComponentModel.DataAnnotations;

namespace Seckill.Gateway;

/// <summary>Settings of the gateway, section <c>Seckill:Gateway</c>. Every default lives here (README, Configuration).</summary>
public sealed class GatewayOptions
{
    public const string Section = "Seckill:Gateway";

    /// <summary>Base URLs of the intakes the crowd is spread over (<c>Seckill:Gateway:Intakes:0</c>, <c>:1</c>, …).</summary>
    [Required]
    [MinLength(1)]
    public required List<string> Intakes { get; init; }

    /// <summary>The <c>iss</c> every buyer token must carry, and the one the token command writes.</summary>
    [Required]
    public string Issuer { get; init; } = "seckill-local";

    /// <summary>The <c>aud</c> every buyer token must carry, and the one the token command writes.</summary>
    [Required]
    public string Audience { get; init; } = "seckill";

    /// <summary>
    /// The RSA private key (PKCS#8 PEM, RS256) that signs tokens. Only the token command and the load
    /// generator read it; the gateway itself never needs it, so a production gateway need not hold it.
    /// </summary>
    public string? SigningKeyPath { get; init; }

    /// <summary>The matching public key (SubjectPublicKeyInfo PEM) that validates buyer tokens.</summary>
    [Required]
    public required string PublicKeyPath { get; init; }

    /// <summary>Tolerated clock difference between the token's issuer and the gateway.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Token bucket per buyer (<c>sub</c>) on purchases: tokens added per second.</summary>
    [Range(1, 100_000)]
    public int PurchasesPerSecond { get; init; } = 2;

    /// <summary>Token bucket per buyer on purchases: its size, the purchases a buyer may send at once.</summary>
    [Range(1, 100_000)]
    public int PurchaseBurst { get; init; } = 4;

    /// <summary>
    /// Requests per second and client address that are not buyer routes with a valid token (admin routes and
    /// the dashboard whatever token they carry, refused tokens). Generous: the admin dashboard polls several routes.
    /// </summary>
    [Range(1, 1_000_000)]
    public int AnonymousPerSecond { get; init; } = 100;

    /// <summary>How often every intake's <c>/health/ready</c> is probed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan HealthInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one probe may take before the intake counts as failing it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan HealthTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// An intake that refused connections (passive detection) is left out this long; then the next
    /// active probe decides. Short, so a restarted intake is back within seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan ReactivationPeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How a request picks its intake: <c>PowerOfTwoChoices</c> or <c>LeastRequests</c>.</summary>
    [RegularExpression("^(PowerOfTwoChoices|LeastRequests)$")]
    public string Balancing { get; init; } = "PowerOfTwoChoices";

    /// <summary>
    /// A second listener, for Prometheus only (<c>/metrics</c>), e.g. <c>http://127.0.0.1:5079</c>; none when
    /// empty. Never the crowd's listener: what the gateway measures is for operators, not for buyers.
    /// </summary>
    public string? MetricsUrl { get; init; }

    /// <summary>How long the gateway waits for an intake's answer before the buyer gets 503.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan IntakeTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
