using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Seckill.Data;
using Seckill.Intake.Campaigns;
using Seckill.Intake.Http;
using Seckill.Inventory;

namespace Seckill.Intake.Reservations;

public sealed record ReservationView(
    Guid ReservationId,
    Guid CampaignId,
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Guid? OrderId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason);

public static class ReservationEndpoints
{
    public static IEndpointRouteBuilder MapReservations(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/reservations/{id}", GetAsync).WithTags("Reservations");
        return routes;
    }

    /// <summary>
    /// The token in Redis is the live state; once it has aged out, a confirmed order is still found
    /// in PostgreSQL. Another buyer's reservation is answered exactly like an unknown one.
    /// </summary>
    private static async Task<IResult> GetAsync(
        string id,
        HttpRequest request,
        CampaignDirectory campaigns,
        ShardReservations reservations,
        IDbContextFactory<SeckillDbContext> databases,
        CancellationToken cancellationToken)
    {
        if (!BuyerId.TryRead(request, out var userId, out var problem) || !RouteIds.TryParse(id, "id", out var reservationId, out problem))
        {
            return problem!;
        }

        var notFound = Problems.NotFound("Reservation", $"No reservation {reservationId} for this buyer.");
        if (!ReservationIds.TryDecode(reservationId, out var number, out var shard)
            || await campaigns.FindByNumberAsync(number) is not { } campaign
            || shard >= campaign.ShardCount)
        {
            return notFound;
        }

        var token = await reservations.ReadTokenAsync(campaign.Id, shard, reservationId);
        if (token is not null)
        {
            return token.UserId == userId
                ? TypedResults.Ok(new ReservationView(reservationId, campaign.Id, PublicStatus(token.State), token.OrderId, token.Reason))
                : notFound;
        }

        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var orderId = await db.Orders.AsNoTracking()
            .Where(o => o.ReservationId == reservationId && o.UserId == userId)
            .Select(o => (Guid?)o.Id)
            .FirstOrDefaultAsync(cancellationToken);
        return orderId is null
            ? notFound
            : TypedResults.Ok(new ReservationView(reservationId, campaign.Id, PublicStatus(TokenState.Confirmed), orderId, null));
    }

    /// <summary>
    /// Reserved, queued and claimed are all "pending" to the buyer: the purchase will be decided by a
    /// worker, and which step it waits in is the operator's business (docs/decisions.md).
    /// </summary>
    private static string PublicStatus(TokenState? state) => state switch
    {
        TokenState.Confirmed => "confirmed",
        TokenState.Failed => "failed",
        _ => "pending",
    };
}
