using System.Text.Json.Serialization;
using Seckill.Data;
using Seckill.Intake.Campaigns;
using Seckill.Contracts;
using Seckill.Intake.Http;
using Seckill.Intake.Payments;
using Seckill.Inventory;

namespace Seckill.Intake.Reservations;

public sealed record ReservationView(
    Guid ReservationId,
    Guid CampaignId,
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Guid? OrderId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? PaymentDeadline,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? PaidAt);

public static class ReservationEndpoints
{
    public static IEndpointRouteBuilder MapReservations(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/reservations/{id}", GetAsync).WithTags("Reservations");
        return routes;
    }

    /// <summary>
    /// The token in Redis is the live state until an order is written; from then on the order in
    /// PostgreSQL is (awaiting payment, paid, payment expired), also after the token aged out. Another
    /// buyer's reservation is answered exactly like an unknown one.
    /// </summary>
    private static async Task<IResult> GetAsync(
        string id,
        HttpRequest request,
        CampaignDirectory campaigns,
        ShardReservations reservations,
        OrderPayments payments,
        CancellationToken cancellationToken)
    {
        if (!BuyerId.TryRead(request, out var userId, out var problem) || !RouteIds.TryParse(id, "id", out var reservationId, out problem))
        {
            return problem!;
        }

        var notFound = Problems.NotFound("Reservation", $"No reservation {reservationId} for this buyer.");
        if (await campaigns.FindByReservationAsync(reservationId) is not var (campaign, shard))
        {
            return notFound;
        }

        var token = await reservations.ReadTokenAsync(campaign.Id, shard, reservationId);
        if (token is not null && token.UserId != userId)
        {
            return notFound;
        }

        if (token is { State: not (TokenState.Confirmed or TokenState.Expired) })
        {
            return TypedResults.Ok(new ReservationView(reservationId, campaign.Id, PublicStatus(token.State), null, token.Reason, null, null));
        }

        // Written: the order in PostgreSQL says where its payment is. Also once the token aged out.
        var order = await payments.FindAsync(reservationId, cancellationToken);
        if (order is null || order.UserId != userId)
        {
            return token is null ? notFound : TypedResults.Ok(new ReservationView(reservationId, campaign.Id, "pending", null, null, null, null));
        }

        return TypedResults.Ok(new ReservationView(reservationId, campaign.Id, order.Status, order.OrderId,
            order.Status == OrderStatus.PaymentExpired ? StockReturnReasons.PaymentExpired : null,
            order.Status == OrderStatus.AwaitingPayment ? order.PaymentDeadline : null,
            order.PaidAt));
    }

    /// <summary>
    /// Reserved, queued and claimed are all "pending" to the buyer: the purchase will be decided by a
    /// worker, and which step it waits in is the operator's business (docs/decisions.md).
    /// </summary>
    private static string PublicStatus(TokenState? state) => state switch
    {
        TokenState.Failed => "failed",
        _ => "pending",
    };
}
