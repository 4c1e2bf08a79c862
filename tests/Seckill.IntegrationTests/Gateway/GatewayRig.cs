using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Seckill.Gateway;
using Seckill.Gateway.Tokens;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Gateway;

/// <summary>
/// The gateway in front of real intakes: each intake a <c>dotnet Seckill.Intake.dll</c> process on its own
/// loopback port (so a test can kill -9 one), the gateway in this process on a free port, and a key pair of the
/// rig's own (the tests do not depend on <c>.local/</c>, and a container run has none).
/// </summary>
public sealed class GatewayRig : IAsyncDisposable
{
    private readonly PipelineFixture _fixture;
    private readonly string _folder;
    private readonly ChildProcess?[] _intakes;
    private WebApplication? _gateway;

    private GatewayRig(PipelineFixture fixture, string folder, int[] ports)
    {
        _fixture = fixture;
        _folder = folder;
        IntakePorts = ports;
        _intakes = new ChildProcess?[ports.Length];
    }

    public IReadOnlyList<int> IntakePorts { get; }

    public Uri Address { get; private set; } = null!;

    public string PrivateKeyPath => Path.Combine(_folder, "signing-key.pem");

    public string PublicKeyPath => Path.Combine(_folder, "signing-key.pub.pem");

    /// <summary>Mints tokens with the key the gateway trusts, issuer and audience as the gateway expects.</summary>
    public BuyerTokens Tokens { get; private set; } = null!;

    /// <param name="gatewaySettings">Replace single <c>Seckill:Gateway:*</c> settings (limits, intervals).</param>
    /// <param name="otherDestinations">Further destinations that are not intakes (a test's echo server).</param>
    public static async Task<GatewayRig> StartAsync(PipelineFixture fixture, int intakes, IReadOnlyDictionary<string, string?>? gatewaySettings = null,
        IReadOnlyList<string>? otherDestinations = null)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "TestResults", "gateway", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        var rig = new GatewayRig(fixture, folder, [.. Enumerable.Range(0, intakes).Select(_ => ChildProcess.FreePort())]);
        try
        {
            WriteKeyPair(rig.PrivateKeyPath, rig.PublicKeyPath);
            rig.Tokens = BuyerTokens.FromPrivateKeyPem(rig.PrivateKeyPath, "seckill-local", "seckill");
            for (var i = 0; i < intakes; i++)
            {
                rig.StartIntakeProcess(i);
            }

            await Task.WhenAll(Enumerable.Range(0, intakes).Select(i => rig.WaitUntilIntakeReadyAsync(i)));
            await rig.StartGatewayAsync(gatewaySettings, otherDestinations ?? []);
            return rig;
        }
        catch
        {
            await rig.DisposeAsync();
            throw;
        }
    }

    /// <summary>A client of the gateway; add tokens per request (<see cref="Buyer"/>) or the admin key.</summary>
    /// <remarks>Header values go out as UTF-8: the hostile probes send non-ASCII ones, which HttpClient refuses by default.</remarks>
    public HttpClient Client() => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 256,
        RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8,
    })
    {
        BaseAddress = Address,
        Timeout = TimeSpan.FromSeconds(60),
    };

    public HttpClient AdminClient()
    {
        var client = Client();
        client.DefaultRequestHeaders.Add("X-Admin-Key", _fixture.AdminKey);
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }

    /// <summary>A request carrying <paramref name="userId"/>'s token.</summary>
    public HttpRequestMessage Buyer(HttpMethod method, string path, string userId)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Tokens.Issue(userId, TimeSpan.FromMinutes(10)));
        return request;
    }

    public void KillIntake(int index)
    {
        _intakes[index]?.KillHard();
        _intakes[index]?.Dispose();
        _intakes[index] = null;
    }

    /// <summary>Starts intake <paramref name="index"/> again on its old port and waits until it is ready.</summary>
    public async Task RestartIntakeAsync(int index)
    {
        KillIntake(index);
        StartIntakeProcess(index);
        await WaitUntilIntakeReadyAsync(index);
    }

    public async ValueTask DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.StopAsync();
            await _gateway.DisposeAsync();
        }

        for (var i = 0; i < _intakes.Length; i++)
        {
            KillIntake(i);
        }

        Tokens?.Dispose();
    }

    private void StartIntakeProcess(int index)
    {
        var settings = new Dictionary<string, string?>(_fixture.Settings)
        {
            // The fixture's intake migrated already; several processes migrating at once only cost time.
            ["Seckill:Database:MigrateOnStart"] = "false",
            ["Seckill:Intake:PublishTimeout"] = "00:00:30",
            ["Seckill:Intake:MaxConcurrentPurchases"] = "100000",
            ["Seckill:Intake:PurchaseQueueLimit"] = "100000",
        };
        _intakes[index] = ChildProcess.StartIntake(settings, IntakePorts[index], Path.Combine(_folder, $"intake-{index}.log"));
    }

    private async Task WaitUntilIntakeReadyAsync(int index)
    {
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var ready = await Waiting.UntilAsync(async () =>
        {
            try
            {
                return (await probe.GetAsync($"http://127.0.0.1:{IntakePorts[index]}/health/ready")).StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
            catch (TaskCanceledException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60));
        Assert.True(ready, $"intake {index} on port {IntakePorts[index]} was not ready within 60 s; see {Path.Combine(_folder, $"intake-{index}.log")}");
    }

    private async Task StartGatewayAsync(IReadOnlyDictionary<string, string?>? overrides, IReadOnlyList<string> otherDestinations)
    {
        var settings = new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["Seckill:Gateway:PublicKeyPath"] = PublicKeyPath,
            ["Seckill:Gateway:SigningKeyPath"] = PrivateKeyPath,
            // Generous limits unless a test sets its own: most tests are about routing, not throttling.
            ["Seckill:Gateway:PurchasesPerSecond"] = "1000",
            ["Seckill:Gateway:PurchaseBurst"] = "1000",
            ["Seckill:Gateway:AnonymousPerSecond"] = "1000000",
        };
        for (var i = 0; i < IntakePorts.Count; i++)
        {
            settings[$"Seckill:Gateway:Intakes:{i}"] = $"http://127.0.0.1:{IntakePorts[i]}";
        }

        for (var i = 0; i < otherDestinations.Count; i++)
        {
            settings[$"Seckill:Gateway:Intakes:{IntakePorts.Count + i}"] = otherDestinations[i];
        }

        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        _gateway = GatewayApp.Build([], settings);
        await _gateway.StartAsync();
        Address = new Uri(_gateway.Urls.Single());
    }

    private static void WriteKeyPair(string privatePath, string publicPath)
    {
        using var rsa = RSA.Create(2048);
        File.WriteAllText(privatePath, rsa.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(publicPath, rsa.ExportSubjectPublicKeyInfoPem());
    }
}
