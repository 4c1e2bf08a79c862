using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Seckill.Gateway.Tokens;

/// <summary>
/// Mints buyer tokens (RS256 JWTs) with the local signing key: the <c>token</c> command and the load
/// generator, which mints one per simulated buyer. One instance is shared by every thread: the key and
/// the handler are built once, and the handler's signature providers are pooled, so a call costs one
/// RSA signature and no key parsing.
/// </summary>
/// <remarks>
/// RS256 rather than ES256: the gateway verifies a token on every buyer request of the crowd, and
/// verification is what the algorithm costs there. Measured here with Microsoft.IdentityModel 8.23
/// (JsonWebTokenHandler.ValidateTokenAsync, 4,000 tokens): RS256 (2048-bit) 29–33 µs per token, ES256
/// (P-256) 267–270 µs — more than the whole accept path behind it. Signing is the other way round
/// (RS256 ~600 µs, ES256 ~65–110 µs), but it happens once per login at the identity provider, not per request.
/// </remarks>
public sealed class BuyerTokens : IDisposable
{
    /// <summary>Same rule as the intake's <c>X-User-Id</c>: a token whose <c>sub</c> the intake would refuse is useless.</summary>
    public const int MaxUserIdLength = 64;

    /// <summary>The only algorithm the gateway accepts (<c>alg: none</c>, HMAC and every other one are refused).</summary>
    public const string Algorithm = SecurityAlgorithms.RsaSha256;

    private readonly RSA _key;
    private readonly SigningCredentials _credentials;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly string _issuer;
    private readonly string _audience;
    private readonly TimeProvider _time;

    private BuyerTokens(RSA key, string issuer, string audience, TimeProvider time)
    {
        _key = key;
        _credentials = new SigningCredentials(new RsaSecurityKey(key), Algorithm);
        _issuer = issuer;
        _audience = audience;
        _time = time;
    }

    /// <summary>Reads an RSA private key (PKCS#8 or PKCS#1 PEM, 2048 bits or more), as <c>infra/services.sh up</c> writes it.</summary>
    public static BuyerTokens FromPrivateKeyPem(string pemPath, string issuer, string audience) =>
        FromPrivateKeyPem(pemPath, issuer, audience, TimeProvider.System);

    public static BuyerTokens FromPrivateKeyPem(string pemPath, string issuer, string audience, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(issuer);
        ArgumentException.ThrowIfNullOrWhiteSpace(audience);
        var key = ReadRsa(pemPath);
        if (!HasPrivateKey(key))
        {
            key.Dispose();
            throw new InvalidOperationException($"{pemPath} holds no private key.");
        }

        return new BuyerTokens(key, issuer, audience, time);
    }

    /// <summary>The public half, for validation: the gateway reads only this file.</summary>
    public static RsaSecurityKey ReadPublicKey(string pemPath) => new(ReadRsa(pemPath));

    /// <summary>A token for <paramref name="userId"/> (its <c>sub</c>), valid from now for <paramref name="lifetime"/>.</summary>
    public string Issue(string userId, TimeSpan lifetime)
    {
        if (!IsValidUserId(userId))
        {
            throw new ArgumentException($"A user id has 1 to {MaxUserIdLength} printable ASCII characters.", nameof(userId));
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        var now = _time.GetUtcNow().UtcDateTime;
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _issuer,
            Audience = _audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            Subject = new ClaimsIdentity([new Claim(JwtRegisteredClaimNames.Sub, userId)]),
            SigningCredentials = _credentials,
        });
    }

    /// <summary>The intake's <c>X-User-Id</c> rule: 1 to 64 printable ASCII characters, not all blank.</summary>
    public static bool IsValidUserId([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? userId) =>
        !string.IsNullOrWhiteSpace(userId) && userId.Length <= MaxUserIdLength && userId.All(c => c is >= ' ' and <= '~');

    public void Dispose() => _key.Dispose();

    private static RSA ReadRsa(string pemPath)
    {
        var key = RSA.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(pemPath));
            if (key.KeySize < 2048)
            {
                throw new InvalidOperationException($"{pemPath} is not an RSA key of 2048 bits or more (RS256 needs one).");
            }

            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    private static bool HasPrivateKey(RSA key)
    {
        try
        {
            return key.ExportParameters(includePrivateParameters: true).D is not null;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
