using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Gateway;

/// <summary>
/// Issue 15's identity promises at the gateway: the buyer is the token's <c>sub</c>, never a header the client
/// sent, and a token that is missing, expired, forged or for someone else reserves nothing.
/// </summary>
public class Authenticating_buyers(PipelineFixture fixture)
{
    [Fact]
    public async Task A_spoofed_X_User_Id_with_a_valid_token_buys_as_the_tokens_sub()
    {
        const int shards = 2;
        await using var rig = await GatewayRig.StartAsync(fixture, intakes: 1);
        var campaign = await fixture.CreateCampaignAsync(stock: 4, shards);
        var buyer = $"gw-sub-{Guid.NewGuid():N}";
        var victim = $"gw-victim-{Guid.NewGuid():N}";
        using var client = rig.Client();

        var purchase = rig.Buyer(HttpMethod.Post, $"/api/campaigns/{campaign.Id}/purchases", buyer);
        purchase.Headers.TryAddWithoutValidation("X-User-Id", victim);
        purchase.Headers.TryAddWithoutValidation("X-User-Id", "second-copy");
        var reservation = await (await client.SendAsync(purchase)).AcceptedReservationAsync();
        await fixture.AssertDrainedAsync(campaign.Id, shards, totalStock: 4);

        var orders = await fixture.OrdersAsync(campaign.Id);
        Assert.Equal(buyer, Assert.Single(orders).Value.UserId);
        Assert.Equal(reservation, orders.Keys.Single());
        Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM orders WHERE user_id = $1", victim));
        var redis = await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards);
        Assert.All(redis.ParsedTokens, t => Assert.Equal(buyer, t.Fields["u"]));
        Assert.DoesNotContain(redis.Markers.Keys, key => key.Contains(victim, StringComparison.Ordinal));

        // Reading another buyer's reservation by naming them in the header does not work either.
        var peek = rig.Buyer(HttpMethod.Get, $"/api/reservations/{reservation}", victim);
        peek.Headers.TryAddWithoutValidation("X-User-Id", buyer);
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(peek)).StatusCode);
        var own = await client.SendAsync(rig.Buyer(HttpMethod.Get, $"/api/reservations/{reservation}", buyer));
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);

        // The victim was never marked as a buyer of this campaign: their own token buys.
        await (await client.SendAsync(rig.Buyer(HttpMethod.Post, $"/api/campaigns/{campaign.Id}/purchases", victim))).AcceptedReservationAsync();
        await fixture.AssertDrainedAsync(campaign.Id, shards, totalStock: 4);
        Assert.Equal(new[] { buyer, victim }.Order(), (await fixture.OrdersAsync(campaign.Id)).Values.Select(o => o.UserId).Order());
    }

    [Fact]
    public async Task Missing_expired_forged_and_malformed_tokens_get_401_and_reserve_nothing()
    {
        const int shards = 2;
        await using var rig = await GatewayRig.StartAsync(fixture, intakes: 1);
        var campaign = await fixture.CreateCampaignAsync(stock: 5, shards);
        var before = await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards);
        var user = $"gw-forger-{Guid.NewGuid():N}";
        using var otherKey = RSA.Create(2048);
        using var ecKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTime.UtcNow;
        var publicKeyPem = Encoding.ASCII.GetBytes(File.ReadAllText(rig.PublicKeyPath));
        using var rigKey = RSA.Create();
        rigKey.ImportFromPem(File.ReadAllText(rig.PrivateKeyPath));

        string Sign(SecurityKey key, string algorithm, string? sub = "default", string issuer = "seckill-local", string audience = "seckill",
            DateTime? expires = null, DateTime? notBefore = null, bool withExpiry = true) =>
            new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
            {
                Issuer = issuer,
                Audience = audience,
                NotBefore = notBefore ?? now.AddMinutes(-1),
                Expires = withExpiry ? expires ?? now.AddMinutes(10) : null,
                Subject = new ClaimsIdentity(sub is null ? [] : [new Claim("sub", sub == "default" ? user : sub)]),
                SigningCredentials = new SigningCredentials(key, algorithm),
            });
        var ours = new RsaSecurityKey(rigKey);
        var valid = Sign(ours, SecurityAlgorithms.RsaSha256);
        var parts = valid.Split('.');

        var refused = new Dictionary<string, string?>
        {
            ["missing"] = null,
            ["expired"] = Sign(ours, SecurityAlgorithms.RsaSha256, expires: now.AddMinutes(-5), notBefore: now.AddMinutes(-20)),
            ["not yet valid"] = Sign(ours, SecurityAlgorithms.RsaSha256, notBefore: now.AddMinutes(5), expires: now.AddMinutes(20)),
            ["no expiry"] = Sign(ours, SecurityAlgorithms.RsaSha256, withExpiry: false),
            ["wrong issuer"] = Sign(ours, SecurityAlgorithms.RsaSha256, issuer: "someone-else"),
            ["wrong audience"] = Sign(ours, SecurityAlgorithms.RsaSha256, audience: "another-api"),
            ["wrong key"] = Sign(new RsaSecurityKey(otherKey), SecurityAlgorithms.RsaSha256),
            ["ES256 with another key"] = Sign(new ECDsaSecurityKey(ecKey), SecurityAlgorithms.EcdsaSha256),
            ["RS512 with our key"] = Sign(ours, SecurityAlgorithms.RsaSha512),
            ["alg none"] = Unsigned(parts[1]),
            ["alg none, signature kept"] = $"{Base64Url("{\"alg\":\"none\",\"typ\":\"JWT\"}")}.{parts[1]}.{parts[2]}",
            ["HS256 keyed with the public key"] = HmacSigned(parts[1], publicKeyPem),
            ["payload swapped"] = $"{parts[0]}.{Base64Url(JsonSerializer.Serialize(new { sub = "someone-else", iss = "seckill-local", aud = "seckill", exp = new DateTimeOffset(now.AddMinutes(10)).ToUnixTimeSeconds() }))}.{parts[2]}",
            ["no sub"] = Sign(ours, SecurityAlgorithms.RsaSha256, sub: null),
            ["sub too long"] = Sign(ours, SecurityAlgorithms.RsaSha256, sub: new string('u', 65)),
            ["sub not ASCII"] = Sign(ours, SecurityAlgorithms.RsaSha256, sub: "käufer"),
            ["sub blank"] = Sign(ours, SecurityAlgorithms.RsaSha256, sub: "   "),
            ["garbage"] = "not-a-token",
            ["three dots"] = "a.b.c",
            ["truncated"] = valid[..^10],
            ["empty"] = "",
        };

        using var client = rig.Client();
        var wrong = new List<string>();
        foreach (var (name, token) in refused)
        {
            foreach (var (method, path) in new[]
                     {
                         (HttpMethod.Post, $"/api/campaigns/{campaign.Id}/purchases"),
                         (HttpMethod.Get, $"/api/reservations/{Guid.NewGuid()}"),
                         (HttpMethod.Post, $"/api/reservations/{Guid.NewGuid()}/payment"),
                     })
            {
                var request = new HttpRequestMessage(method, path);
                if (token is not null)
                {
                    request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {token}");
                }

                // The header the intake would trust, had the gateway let it through.
                request.Headers.TryAddWithoutValidation("X-User-Id", user);
                var response = await client.SendAsync(request);
                if (response.StatusCode != HttpStatusCode.Unauthorized)
                {
                    wrong.Add($"{name}, {method} {path}: {(int)response.StatusCode}");
                    continue;
                }

                var problem = await response.ReadProblemAsync();
                Assert.Equal("unauthorized", problem.Code);
                Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
            }
        }

        // Other schemes, and the header sent twice.
        foreach (var header in new[] { $"Basic {Convert.ToBase64String("a:b"u8)}", valid, $"bearer{valid}", $"Bearer {valid} {valid}" })
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{campaign.Id}/purchases");
            request.Headers.TryAddWithoutValidation("Authorization", header);
            request.Headers.TryAddWithoutValidation("X-User-Id", user);
            var status = (await client.SendAsync(request)).StatusCode;
            if (status != HttpStatusCode.Unauthorized)
            {
                wrong.Add($"Authorization: {header[..Math.Min(30, header.Length)]}…: {(int)status}");
            }
        }

        var twice = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{campaign.Id}/purchases");
        twice.Headers.TryAddWithoutValidation("Authorization", [$"Bearer {valid}", $"Bearer {valid}"]);
        var twiceStatus = (await client.SendAsync(twice)).StatusCode;
        if (twiceStatus != HttpStatusCode.Unauthorized)
        {
            wrong.Add($"Authorization twice: {(int)twiceStatus}");
        }

        Assert.True(wrong.Count == 0, $"not refused with 401:\n{string.Join('\n', wrong)}");
        Assert.True(before.SameAs(await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards)), "a refused token changed Redis");
        Assert.Empty((await RedisSnapshot.TakeAsync(fixture, campaign.Id, shards)).Tokens);
        Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1", campaign.Id));

        // The same request with the valid token goes through: the refusals above were the tokens' fault.
        var accepted = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{campaign.Id}/purchases");
        accepted.Headers.Authorization = new AuthenticationHeaderValue("Bearer", valid);
        await (await client.SendAsync(accepted)).AcceptedReservationAsync();
        await fixture.AssertDrainedAsync(campaign.Id, shards, totalStock: 5);
        Assert.Equal(user, Assert.Single(await fixture.OrdersAsync(campaign.Id)).Value.UserId);
    }

    [Fact]
    public async Task Admin_routes_pass_through_with_the_admin_key_and_never_carry_a_client_X_User_Id()
    {
        await using var rig = await GatewayRig.StartAsync(fixture, intakes: 1);
        using var admin = rig.AdminClient();
        var campaign = await admin.CreateCampaignAsync(stock: 3, shards: 1);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/campaigns/{campaign.Id}")).StatusCode);
        using var anonymous = rig.Client();
        var noKey = await anonymous.GetAsync($"/api/campaigns/{campaign.Id}");
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        Assert.Equal("unauthorized", (await noKey.ReadProblemAsync()).Code);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live")).StatusCode);
        var ready = await anonymous.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var unknown = await anonymous.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("not-found", (await unknown.ReadProblemAsync()).Code);
        var dashboard = await anonymous.GetAsync("/dashboard/");
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        var live = await admin.GetAsync($"/api/campaigns/{campaign.Id}/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);

        // A purchase sent to an admin-looking path with a spoofed buyer does not buy anything as that buyer.
        var spoof = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{campaign.Id}/purchases/");
        spoof.Headers.TryAddWithoutValidation("X-User-Id", "spoofed");
        var answer = await anonymous.SendAsync(spoof);
        Assert.True((int)answer.StatusCode is >= 400 and < 500, $"{(int)answer.StatusCode}");
        Assert.Equal(0, await fixture.CountAsync("SELECT count(*) FROM orders WHERE campaign_id = $1", campaign.Id));
        Assert.Empty((await RedisSnapshot.TakeAsync(fixture, campaign.Id, 1)).Tokens);
    }

    /// <summary>
    /// What an intake receives, seen by an echo server in its place: on every route the client's <c>X-User-Id</c>
    /// and <c>Authorization</c> are gone; buyer routes carry exactly the token's <c>sub</c>.
    /// </summary>
    [Fact]
    public async Task Every_route_forwards_no_client_X_User_Id_and_buyer_routes_forward_the_sub()
    {
        var echo = WebApplication.CreateSlimBuilder();
        echo.WebHost.UseUrls("http://127.0.0.1:0");
        await using var echoApp = echo.Build();
        echoApp.MapGet("/health/ready", () => "Healthy");
        echoApp.Map("/{**path}", (HttpRequest request) => Results.Json(new EchoJson(
            request.Headers["X-User-Id"].ToArray()!, request.Headers.Authorization.ToArray()!)));
        await echoApp.StartAsync();
        await using var rig = await GatewayRig.StartAsync(fixture, intakes: 0, otherDestinations: [echoApp.Urls.Single()]);
        using var client = rig.Client();
        var buyer = $"gw-echo-{Guid.NewGuid():N}";
        var campaign = Guid.NewGuid();

        foreach (var (method, path, isBuyerRoute) in new[]
                 {
                     (HttpMethod.Post, $"/api/campaigns/{campaign}/purchases", true),
                     (HttpMethod.Get, $"/api/campaigns/{campaign}/purchases", true),
                     (HttpMethod.Get, $"/api/reservations/{Guid.NewGuid()}", true),
                     (HttpMethod.Post, $"/api/reservations/{Guid.NewGuid()}/payment", true),
                     (HttpMethod.Post, "/api/campaigns", false),
                     (HttpMethod.Get, $"/api/campaigns/{campaign}", false),
                     (HttpMethod.Get, $"/api/campaigns/{campaign}/live", false),
                     (HttpMethod.Get, "/api/dashboard/campaigns", false),
                     (HttpMethod.Get, "/dashboard/", false),
                     (HttpMethod.Get, "/openapi/v1.json", false),
                 })
        {
            var request = rig.Buyer(method, path, buyer);
            request.Headers.TryAddWithoutValidation("X-User-Id", "spoofed");
            request.Headers.TryAddWithoutValidation("x-user-id", "spoofed-lowercase");
            var response = await client.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{method} {path}: {(int)response.StatusCode}");
            var seen = (await response.Content.ReadFromJsonAsync<EchoJson>())!;
            Assert.Equal(isBuyerRoute ? [buyer] : [], seen.UserIds);
            Assert.Empty(seen.Authorization);
        }
    }

    private sealed record EchoJson(string[] UserIds, string[] Authorization);

    private static string Unsigned(string payload) => $"{Base64Url("{\"alg\":\"none\",\"typ\":\"JWT\"}")}.{payload}.";

    /// <summary>The classic confusion attack: HS256 keyed with the public key's PEM bytes, which an RS256 verifier might accept.</summary>
    private static string HmacSigned(string payload, byte[] secret)
    {
        var head = $"{Base64Url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}")}.{payload}";
        var signature = HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(head));
        return $"{head}.{Base64UrlEncoder.Encode(signature)}";
    }

    private static string Base64Url(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));
}
