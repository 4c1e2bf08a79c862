using System.Buffers;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Seckill.LoadTest;

public sealed record ShardView(int Index, long VirtualStock);

/// <summary>Confirmed counts the live orders: awaiting payment plus paid (campaigns.sold).</summary>
public sealed record CampaignCounts(long Confirmed, long Pending, long Failed, long AwaitingPayment, long Paid, long PaymentExpired);

public sealed record NewCampaign(
    string Name,
    int Stock,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Shards,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? PaymentWindow);

/// <summary><paramref name="PaymentWindow"/> in seconds.</summary>
public sealed record CampaignView(Guid Id, string Name, int Stock, string Status, int PaymentWindow, IReadOnlyList<ShardView> Shards, CampaignCounts Counts);

public sealed record PaymentRequest(string PaymentReference);

/// <summary>
/// A reservation as its buyer reads it: the HTTP status (0 when none came) and, for a 200, its status
/// (pending, awaiting-payment, paid, payment-expired, failed) and a failed one's reason.
/// </summary>
public readonly record struct ReservationAnswer(int HttpStatus, string? Status, string? Reason);

/// <summary>
/// One answer to a payment: the HTTP status (0 when none came), the problem code's id in <see cref="ProblemCodes"/>,
/// and how long the intake asked to wait before retrying, when it said.
/// </summary>
public readonly record struct PaymentAnswer(int Status, int Code, TimeSpan? RetryAfter);

/// <summary>
/// One answer to a purchase: the HTTP status (0 when none came), the problem code's id in <see cref="ProblemCodes"/>,
/// and for a 202 the reservation id (<see cref="Guid.Empty"/> when the answer named none).
/// </summary>
public readonly record struct PurchaseAnswer(int Status, int Code, Guid ReservationId = default);

/// <summary>The intake's admin and buyer routes over one pooled HTTP/1.1 client.</summary>
public sealed class IntakeClient : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http;
    private readonly string _adminKey;

    public IntakeClient(Uri intake, string adminKey, int concurrency)
    {
        _adminKey = adminKey;
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = concurrency,
            PooledConnectionLifetime = TimeSpan.FromHours(1),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        _http = new HttpClient(handler)
        {
            BaseAddress = intake,
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    public ProblemCodes Codes { get; } = new();

    /// <summary>Settable so the tokens are minted only once the target answered: minting 100,000 takes a minute.</summary>
    public BuyerIdentity Buyers { get; set; } = BuyerIdentity.UserIdHeader;

    public async Task CheckHealthAsync(CancellationToken cancellationToken)
    {
        try
        {
            // /health/live: both the intake and the gateway answer it, and --intake may name either.
            using var response = await _http.GetAsync(new Uri("/health/live", UriKind.Relative), cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new ServiceUnavailableException($"The intake at {_http.BaseAddress} answered /health/live with {(int)response.StatusCode}.");
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            throw new ServiceUnavailableException($"The intake at {_http.BaseAddress} cannot be reached ({e.Message}). Start it or pass --intake.", e);
        }
    }

    public async Task<CampaignView> CreateCampaignAsync(string name, int stock, int? shards, int paymentWindowSeconds, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/campaigns", UriKind.Relative))
        {
            Content = JsonContent.Create(new NewCampaign(name, stock, shards, paymentWindowSeconds), options: Json),
        };
        request.Headers.Add("X-Admin-Key", _adminKey);
        using var response = await _http.SendAsync(request, cancellationToken);
        return await ReadCampaignAsync(response, HttpStatusCode.Created, "creating the campaign", cancellationToken);
    }

    public async Task<CampaignView> GetCampaignAsync(Guid id, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/api/campaigns/{id}", UriKind.Relative));
        request.Headers.Add("X-Admin-Key", _adminKey);
        using var response = await _http.SendAsync(request, cancellationToken);
        return await ReadCampaignAsync(response, HttpStatusCode.OK, $"reading campaign {id}", cancellationToken);
    }

    public static Uri PurchaseUri(Guid campaignId) => new($"/api/campaigns/{campaignId}/purchases", UriKind.Relative);

    /// <summary>Never throws: a request that got no answer is status 0 with a transport code.</summary>
    public async Task<PurchaseAnswer> PurchaseAsync(Uri purchaseUri, int buyer, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, purchaseUri);
            Buyers.Identify(request, buyer);
            // Headers first: a 202 names its reservation in Location, so its body is read only when that is
            // missing; a problem's body is read into a pooled buffer.
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var status = (int)response.StatusCode;
            if (status == (int)HttpStatusCode.Accepted)
            {
                var reservationId = ReservationIdOf(response.Headers.Location) ?? await ReadReservationIdAsync(response, cancellationToken);
                return new PurchaseAnswer(status, ProblemCodes.None, reservationId);
            }

            return new PurchaseAnswer(status, await ReadProblemCodeAsync(response, cancellationToken));
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new PurchaseAnswer(0, ProblemCodes.Timeout);
        }
        catch (HttpRequestException)
        {
            return new PurchaseAnswer(0, ProblemCodes.ConnectionFailed);
        }
        catch (IOException)
        {
            return new PurchaseAnswer(0, ProblemCodes.ConnectionFailed);
        }
    }

    /// <summary>Never throws: a request that got no answer is HTTP status 0.</summary>
    public async Task<ReservationAnswer> GetReservationAsync(Guid reservationId, int buyer, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/api/reservations/{reservationId}", UriKind.Relative));
            Buyers.Identify(request, buyer);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return new ReservationAnswer((int)response.StatusCode, null, null);
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var document = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
            return new ReservationAnswer(200, StringOf(document.RootElement, "status"), StringOf(document.RootElement, "reason"));
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ReservationAnswer(0, null, null);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException)
        {
            return new ReservationAnswer(0, null, null);
        }
    }

    /// <summary>Never throws: a request that got no answer is status 0 with a transport code.</summary>
    public async Task<PaymentAnswer> PayAsync(Guid reservationId, int buyer, string paymentReference, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"/api/reservations/{reservationId}/payment", UriKind.Relative))
            {
                Content = JsonContent.Create(new PaymentRequest(paymentReference), options: Json),
            };
            Buyers.Identify(request, buyer);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var status = (int)response.StatusCode;
            if (status == (int)HttpStatusCode.OK)
            {
                return new PaymentAnswer(status, ProblemCodes.None, null);
            }

            var retryAfter = response.Headers.RetryAfter switch
            {
                { Delta: { } delta } => delta,
                { Date: { } date } => date - DateTimeOffset.UtcNow,
                _ => (TimeSpan?)null,
            };
            return new PaymentAnswer(status, await ReadProblemCodeAsync(response, cancellationToken), retryAfter);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new PaymentAnswer(0, ProblemCodes.Timeout, null);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return new PaymentAnswer(0, ProblemCodes.ConnectionFailed, null);
        }
    }

    public void Dispose() => _http.Dispose();

    private static string? StringOf(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>The id at the end of <c>/api/reservations/{id}</c>.</summary>
    private static Guid? ReservationIdOf(Uri? location)
    {
        if (location is null)
        {
            return null;
        }

        var path = location.IsAbsoluteUri ? location.AbsolutePath : location.OriginalString;
        var last = path.AsSpan().TrimEnd('/');
        last = last[(last.LastIndexOf('/') + 1)..];
        return Guid.TryParse(last, out var id) ? id : null;
    }

    /// <summary>The body's <c>reservationId</c>; <see cref="Guid.Empty"/> when there is none, which the report counts as unaccounted.</summary>
    private static async Task<Guid> ReadReservationIdAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var document = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("reservationId", out var id)
                && id.ValueKind == JsonValueKind.String
                && id.TryGetGuid(out var reservationId)
                ? reservationId
                : Guid.Empty;
        }
        catch (JsonException)
        {
            return Guid.Empty;
        }
    }

    private async Task<int> ReadProblemCodeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            {
                length += read;
            }

            return Codes.Identify(buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<CampaignView> ReadCampaignAsync(HttpResponseMessage response, HttpStatusCode expected, string what, CancellationToken cancellationToken)
    {
        if (response.StatusCode != expected)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new ServiceUnavailableException($"The intake answered {(int)response.StatusCode} when {what}: {body}");
        }

        return await response.Content.ReadFromJsonAsync<CampaignView>(Json, cancellationToken)
            ?? throw new ServiceUnavailableException($"The intake answered an empty body when {what}.");
    }
}
