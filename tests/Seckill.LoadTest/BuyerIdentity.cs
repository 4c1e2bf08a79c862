using System.Diagnostics;
using System.Globalization;
using Seckill.Gateway;
using Seckill.Gateway.Tokens;

namespace Seckill.LoadTest;

/// <summary>How a simulated buyer says who it is.</summary>
public enum BuyerAuth
{
    /// <summary><c>Authorization: Bearer</c> with a token whose <c>sub</c> is the buyer: the gateway's buyer routes.</summary>
    Token,

    /// <summary><c>X-User-Id</c>: an intake reached directly, which trusts that header.</summary>
    UserId,
}

/// <summary>Where tokens come from: the signing key and the claims the gateway checks.</summary>
public sealed record TokenSettings(string SigningKeyPath, string Issuer, string Audience, TimeSpan Lifetime)
{
    /// <summary>
    /// Null when no key is known. Issuer and audience default to the gateway's own defaults, so a token minted
    /// here passes a gateway started with the same env file.
    /// </summary>
    public static TokenSettings? From(ServiceSettings settings, string? keyPath, double minutes)
    {
        var key = keyPath ?? settings.SigningKeyPath;
        if (key is null)
        {
            return null;
        }

        // Only the issuer and audience defaults are read; the required members do not matter for minting.
        var defaults = new GatewayOptions { Intakes = [], PublicKeyPath = "" };
        return new TokenSettings(key, settings.Issuer ?? defaults.Issuer, settings.Audience ?? defaults.Audience, TimeSpan.FromMinutes(minutes));
    }
}

/// <summary>How long minting took, for the run's first lines and the bench; <see cref="ReusedFrom"/> names a cache file that spared it.</summary>
public sealed record MintTimes(int Count, TimeSpan Elapsed, TimeSpan Cpu, int Threads, TimeSpan Lifetime, string? ReusedFrom = null)
{
    public override string ToString() => ReusedFrom is not null
        ? string.Create(CultureInfo.InvariantCulture, $"{Count} tokens reused from {ReusedFrom} (read in {Elapsed.TotalSeconds:F2} s; valid {Lifetime.TotalMinutes:F0} more min)")
        : string.Create(CultureInfo.InvariantCulture,
            $"{Count} tokens minted in {Elapsed.TotalSeconds:F2} s on {Threads} threads ({(Count == 0 ? 0 : Cpu.TotalMicroseconds / Count):F0} µs of CPU per token; valid {Lifetime.TotalMinutes:F0} min)");
}

/// <summary>
/// Puts a buyer's identity on a request. With tokens, every buyer's header is minted before the sale and only
/// looked up during it: buyers log in before a flash sale starts, and minting during it would take CPU from
/// the gateway and intakes on the same machine.
/// </summary>
public sealed class BuyerIdentity
{
    private readonly string[]? _authorizations;

    private BuyerIdentity(string[]? authorizations) => _authorizations = authorizations;

    public static BuyerIdentity UserIdHeader { get; } = new(null);

    public BuyerAuth Auth => _authorizations is null ? BuyerAuth.UserId : BuyerAuth.Token;

    /// <summary>Tokens for buyers 0..<paramref name="buyers"/>-1, named as <see cref="SaleRunner.UserId"/> names them.</summary>
    public static (BuyerIdentity Identity, MintTimes Times) Mint(TokenSettings settings, int buyers)
    {
        var authorizations = new string[buyers];
        var times = MintInto(settings, buyers, SaleRunner.UserId, (i, token) => authorizations[i] = "Bearer " + token);
        return (new BuyerIdentity(authorizations), times);
    }

    /// <summary>
    /// Like <see cref="Mint"/>, but keeps the tokens in <paramref name="cacheDir"/> for the next run: an RS256 token
    /// costs ~0.4 ms of CPU to sign, so 100,000 buyers cost tens of seconds before every demo. Cached tokens are
    /// minted for <see cref="CacheLifetime"/> and reused while each is still valid for the run's own lifetime; the
    /// file is named after the signing key, issuer and audience, so another key never reuses them.
    /// </summary>
    public static async Task<(BuyerIdentity Identity, MintTimes Times)> MintOrReuseAsync(
        TokenSettings settings, int buyers, string cacheDir, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var path = Path.Combine(cacheDir, CacheName(settings));
        var now = DateTimeOffset.UtcNow;
        if (await ReadCacheAsync(path, buyers, now + settings.Lifetime, cancellationToken) is { } cached)
        {
            return (new BuyerIdentity(cached.Authorizations),
                new MintTimes(buyers, Stopwatch.GetElapsedTime(started), TimeSpan.Zero, 0, cached.ExpiresAt - now, path));
        }

        var longLived = settings with { Lifetime = settings.Lifetime > CacheLifetime ? settings.Lifetime : CacheLifetime };
        var (identity, times) = Mint(longLived, buyers);
        Directory.CreateDirectory(cacheDir);
        var temporary = path + ".tmp";
        await using (var writer = new StreamWriter(temporary))
        {
            await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"expires={(now + longLived.Lifetime).ToUnixTimeSeconds()}"));
            foreach (var authorization in identity._authorizations!)
            {
                await writer.WriteLineAsync(authorization);
            }
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temporary, path, overwrite: true);
        return (identity, times);
    }

    public static readonly TimeSpan CacheLifetime = TimeSpan.FromHours(24);

    private static string CacheName(TokenSettings settings)
    {
        var identity = string.Join('\n', File.ReadAllText(settings.SigningKeyPath), settings.Issuer, settings.Audience, SaleRunner.UserId(0));
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(identity)));
        return $"buyers-{hash[..16]}.tokens";
    }

    /// <summary>The first <paramref name="buyers"/> cached headers, or null when the file is missing, too short or expires before <paramref name="validUntil"/>.</summary>
    private static async Task<(string[] Authorizations, DateTimeOffset ExpiresAt)?> ReadCacheAsync(
        string path, int buyers, DateTimeOffset validUntil, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        using var reader = new StreamReader(path);
        var header = await reader.ReadLineAsync(cancellationToken);
        if (header is null || !header.StartsWith("expires=", StringComparison.Ordinal)
            || !long.TryParse(header["expires=".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || DateTimeOffset.FromUnixTimeSeconds(expires) < validUntil)
        {
            return null;
        }

        var authorizations = new string[buyers];
        for (var i = 0; i < buyers; i++)
        {
            if (await reader.ReadLineAsync(cancellationToken) is not { Length: > 0 } line)
            {
                return null;
            }

            authorizations[i] = line;
        }

        return (authorizations, DateTimeOffset.FromUnixTimeSeconds(expires));
    }

    /// <summary>
    /// Mints <paramref name="count"/> tokens in parallel; <paramref name="store"/> is called once per index, from
    /// any thread. Process CPU is measured as well as wall time, because the threads share the cores.
    /// </summary>
    public static MintTimes MintInto(TokenSettings settings, int count, Func<int, string> userId, Action<int, string> store)
    {
        using var tokens = Open(settings);
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        var threads = Environment.ProcessorCount;
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads }, i => store(i, tokens.Issue(userId(i), settings.Lifetime)));
        var elapsed = Stopwatch.GetElapsedTime(started);
        process.Refresh();
        return new MintTimes(count, elapsed, process.TotalProcessorTime - cpuBefore, threads, settings.Lifetime);
    }

    public void Identify(HttpRequestMessage request, int buyer)
    {
        if (_authorizations is null)
        {
            request.Headers.TryAddWithoutValidation("X-User-Id", SaleRunner.UserId(buyer));
        }
        else
        {
            request.Headers.TryAddWithoutValidation("Authorization", _authorizations[buyer]);
        }
    }

    private static BuyerTokens Open(TokenSettings settings)
    {
        try
        {
            return BuyerTokens.FromPrivateKeyPem(settings.SigningKeyPath, settings.Issuer, settings.Audience);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException
            or System.Security.Cryptography.CryptographicException)
        {
            throw new UsageException($"The token signing key '{settings.SigningKeyPath}' cannot be used: {e.Message}");
        }
    }
}
