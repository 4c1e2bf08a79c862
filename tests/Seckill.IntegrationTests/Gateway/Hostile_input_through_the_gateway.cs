using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Seckill.Gateway.Tokens;
using Seckill.IntegrationTests.Fixtures;
using Seckill.IntegrationTests.Hostile;

namespace Seckill.IntegrationTests.Gateway;

/// <summary>
/// I5 through the gateway: the whole hostile sweep sent to the gateway instead of an intake, each buyer probe
/// with a valid token for its user (a token whose <c>sub</c> the intake would refuse when the user is malformed)
/// and again with garbage credentials; no 5xx, problem+json everywhere, the stores exactly as before.
/// </summary>
public class Hostile_input_through_the_gateway(PipelineFixture fixture)
{
    [Fact]
    public async Task Every_answer_is_a_4xx_problem_and_nothing_changes()
    {
        await using var rig = await GatewayRig.StartAsync(fixture, intakes: 2);
        using var key = RSA.Create();
        key.ImportFromPem(File.ReadAllText(rig.PrivateKeyPath));
        var credentials = new SigningCredentials(new RsaSecurityKey(key), SecurityAlgorithms.RsaSha256);
        var handler = new JsonWebTokenHandler();
        string TokenFor(string user) => BuyerTokens.IsValidUserId(user)
            ? rig.Tokens.Issue(user, TimeSpan.FromMinutes(10))
            : handler.CreateToken(new SecurityTokenDescriptor
            {
                Issuer = "seckill-local",
                Audience = "seckill",
                Expires = DateTime.UtcNow.AddMinutes(10),
                Subject = new ClaimsIdentity([new Claim("sub", user)]),
                SigningCredentials = credentials,
            });
        var tokens = new Dictionary<string, string>();
        string[] garbage =
        [
            "Bearer", "Bearer ", "Bearer x", "Basic c2Vja2lsbDpzZWNraWxs", "Bearer a.b.c", "Bearer " + new string('t', 6000),
            "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhZG1pbiJ9.", "Bearer \u00e4\u00f6\u00fc", "Digest username=\"x\"",
        ];

        var sent = 0;
        using var client = rig.Client();
        await Hostile_input_sweep.SweepAsync(fixture, client, probe => RequestsFor(probe),
            refusedByTheParser: probe => new[] { probe.UserId, probe.AdminKey, probe.IdempotencyKey }.Any(v => v?.Contains('\0', StringComparison.Ordinal) == true));
        Assert.True(sent >= 8_000, $"only {sent} requests were sent through the gateway");

        IEnumerable<HttpRequestMessage> RequestsFor(Hostile_input_sweep.Probe probe)
        {
            // As the probe was written: a buyer route without a token must be refused before any intake sees it.
            sent++;
            yield return Hostile_input_sweep.ToRequest(probe);
            if (probe.UserId is { } user)
            {
                // With the user's own token, and their id still spoofed in X-User-Id (the gateway replaces it).
                var authenticated = Hostile_input_sweep.ToRequest(probe);
                if (!tokens.TryGetValue(user, out var token))
                {
                    tokens[user] = token = TokenFor(user);
                }

                authenticated.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                sent++;
                yield return authenticated;
            }

            var withGarbage = Hostile_input_sweep.ToRequest(probe);
            withGarbage.Headers.TryAddWithoutValidation("Authorization", garbage[sent % garbage.Length]);
            sent++;
            yield return withGarbage;
        }
    }
}
