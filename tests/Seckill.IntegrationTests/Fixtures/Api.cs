using System.Net;
using System.Net.Http.Json;

namespace Seckill.IntegrationTests.Fixtures;

public sealed record PurchaseJson(Guid ReservationId, string Status);

public sealed record ReservationJson(Guid ReservationId, Guid CampaignId, string Status, Guid? OrderId, string? Reason, DateTimeOffset? PaymentDeadline, DateTimeOffset? PaidAt);

/// <summary>The HTTP calls tests make again and again, written once.</summary>
public static class Api
{
    public static Task<CampaignJson> CreateCampaignAsync(
        this PipelineFixture fixture, int stock, int shards, DateTimeOffset? startsAt = null, DateTimeOffset? endsAt = null) =>
        fixture.AdminClient().CreateCampaignAsync(stock, shards, startsAt, endsAt);

    /// <summary>Through a given intake's admin client, e.g. one whose Redis endpoints differ from the shared ones.</summary>
    public static async Task<CampaignJson> CreateCampaignAsync(
        this HttpClient admin, int stock, int shards, DateTimeOffset? startsAt = null, DateTimeOffset? endsAt = null)
    {
        var response = await admin.PostAsJsonAsync("/api/campaigns",
            new { name = $"test-{Guid.NewGuid():N}", stock, shards, startsAt, endsAt });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CampaignJson>())!;
    }

    public static Task<HttpResponseMessage> BuyAsync(this HttpClient client, Guid campaignId, string userId, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{campaignId}/purchases");
        request.Headers.TryAddWithoutValidation("X-User-Id", userId);
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        return client.SendAsync(request);
    }

    public static async Task<ReservationJson?> ReservationAsync(this HttpClient client, Guid reservationId, string userId)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/reservations/{reservationId}");
        request.Headers.TryAddWithoutValidation("X-User-Id", userId);
        var response = await client.SendAsync(request);
        return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<ReservationJson>() : null;
    }

    public static Task<HttpResponseMessage> PayAsync(this HttpClient client, Guid reservationId, string userId, string paymentReference)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/reservations/{reservationId}/payment")
        {
            Content = JsonContent.Create(new { paymentReference }),
        };
        request.Headers.TryAddWithoutValidation("X-User-Id", userId);
        return client.SendAsync(request);
    }

    public static async Task<Guid> AcceptedReservationAsync(this HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = await response.Content.ReadFromJsonAsync<PurchaseJson>();
        Assert.Equal("pending", accepted!.Status);
        Assert.Equal($"/api/reservations/{accepted.ReservationId}", response.Headers.Location?.OriginalString);
        return accepted.ReservationId;
    }
}
