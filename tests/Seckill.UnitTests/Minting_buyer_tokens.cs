using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Seckill.Gateway.Tokens;

namespace Seckill.UnitTests;

/// <summary>
/// BuyerTokens, as the token command and the load generator use it: what it mints is exactly what the gateway
/// accepts (its algorithm, issuer, audience, lifetime and <c>sub</c>), from many threads at once.
/// </summary>
public sealed class Minting_buyer_tokens : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("buyer-tokens").FullName;
    private readonly string _privatePath;
    private readonly string _publicPath;

    public Minting_buyer_tokens()
    {
        using var rsa = RSA.Create(2048);
        _privatePath = Path.Combine(_folder, "key.pem");
        _publicPath = Path.Combine(_folder, "key.pub.pem");
        File.WriteAllText(_privatePath, rsa.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(_publicPath, rsa.ExportSubjectPublicKeyInfoPem());
    }

    [Fact]
    public async Task A_token_validates_with_the_public_key_and_carries_the_buyer_as_sub()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var tokens = BuyerTokens.FromPrivateKeyPem(_privatePath, "seckill-local", "seckill", time);
        var token = tokens.Issue("alice", TimeSpan.FromMinutes(10));

        var result = await Validate(token);
        Assert.True(result.IsValid, result.Exception?.Message);
        Assert.Equal("alice", result.Claims["sub"]);
        var jwt = new JsonWebToken(token);
        Assert.Equal(BuyerTokens.Algorithm, jwt.Alg);
        Assert.Equal(SecurityAlgorithms.RsaSha256, jwt.Alg);
        Assert.Equal(time.GetUtcNow().AddMinutes(10).ToUnixTimeSeconds(), new DateTimeOffset(jwt.ValidTo).ToUnixTimeSeconds());
    }

    [Fact]
    public async Task A_token_past_its_lifetime_is_refused()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(-1));
        using var tokens = BuyerTokens.FromPrivateKeyPem(_privatePath, "seckill-local", "seckill", time);
        var result = await Validate(tokens.Issue("alice", TimeSpan.FromMinutes(10)));
        Assert.IsType<SecurityTokenExpiredException>(result.Exception);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("käufer")]
    [InlineData("nul\0")]
    public void A_user_id_the_intake_would_refuse_gets_no_token(string userId)
    {
        using var tokens = BuyerTokens.FromPrivateKeyPem(_privatePath, "seckill-local", "seckill");
        Assert.Throws<ArgumentException>(() => tokens.Issue(userId, TimeSpan.FromMinutes(1)));
        Assert.Throws<ArgumentException>(() => tokens.Issue(new string('u', 65), TimeSpan.FromMinutes(1)));
        Assert.NotEmpty(tokens.Issue(new string('u', 64), TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void A_public_key_cannot_mint()
    {
        Assert.Throws<InvalidOperationException>(() => BuyerTokens.FromPrivateKeyPem(_publicPath, "seckill-local", "seckill"));
    }

    [Fact]
    public async Task One_instance_mints_for_many_threads_at_once()
    {
        using var tokens = BuyerTokens.FromPrivateKeyPem(_privatePath, "seckill-local", "seckill");
        var minted = new string[2_000];
        Parallel.For(0, minted.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => minted[i] = tokens.Issue($"buyer-{i}", TimeSpan.FromMinutes(5)));
        for (var i = 0; i < minted.Length; i += 97)
        {
            var result = await Validate(minted[i]);
            Assert.True(result.IsValid, result.Exception?.Message);
            Assert.Equal($"buyer-{i}", result.Claims["sub"]);
        }
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private Task<TokenValidationResult> Validate(string token) =>
        new JsonWebTokenHandler { MapInboundClaims = false }.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidAlgorithms = [BuyerTokens.Algorithm],
            IssuerSigningKey = BuyerTokens.ReadPublicKey(_publicPath),
            ValidIssuer = "seckill-local",
            ValidAudience = "seckill",
            ClockSkew = TimeSpan.Zero,
        });
}
