using Seckill.Intake.Campaigns;
using Seckill.Intake.Http;
using Seckill.Inventory;

namespace Seckill.Intake.Payments;

public sealed record PaymentAccepted(Guid ReservationId, Guid OrderId, string Status, DateTimeOffset PaidAt);

public static class PaymentEndpoints
{
    public const int MaxBodyBytes = 4 * 1024;

    public static IEndpointRouteBuilder MapPayments(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/reservations/{id}/payment", PayAsync).WithTags("Payments");
        return routes;
    }

    /// <summary>
    /// The patent's S5 transaction request: the reservation id is the token, checked against the buyer
    /// and the order. Repeating a payment with its reference gets the same answer; every refusal names
    /// what the order is now, so the loser of a race with expiry reads the winner's result.
    /// </summary>
    private static async Task<IResult> PayAsync(
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

        var body = await JsonBody.ReadAsync<PaymentRequest>(request, MaxBodyBytes, cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }

        if (body.IsEmpty)
        {
            return Problems.Invalid("body", "A JSON body {\"paymentReference\": \"…\"} is required.");
        }

        var errors = body.Value!.Validate();
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var notFound = Problems.NotFound("Reservation", $"No reservation {reservationId} for this buyer.");
        if (await campaigns.FindByReservationAsync(reservationId) is not var (campaign, shard))
        {
            return notFound;
        }

        var reference = body.Value.PaymentReference!;
        var paidNow = await payments.TryPayAsync(reservationId, userId, reference, cancellationToken);
        var order = await payments.FindAsync(reservationId, cancellationToken);
        if (order is null)
        {
            var token = await reservations.ReadTokenAsync(campaign.Id, shard, reservationId);
            return token is null || token.UserId != userId ? notFound : token.State switch
            {
                TokenState.Failed => Problems.Of(StatusCodes.Status410Gone, "reservation-failed", "Reservation failed",
                    $"The reservation ended without an order ({token.Reason}); there is nothing to pay.",
                    new Dictionary<string, object?> { ["reason"] = token.Reason }),
                _ => NotReady(request.HttpContext),
            };
        }

        if (order.UserId != userId)
        {
            return notFound;
        }

        return order.Status switch
        {
            Data.OrderStatus.Paid when paidNow || order.PaymentReference == reference =>
                TypedResults.Ok(new PaymentAccepted(reservationId, order.OrderId, "paid", order.PaidAt!.Value)),
            Data.OrderStatus.Paid => Problems.Of(StatusCodes.Status409Conflict, "already-paid", "Already paid",
                "The order was already paid with another payment reference."),
            // Expired, or still awaiting with its deadline passed: expiry takes it at its next round.
            _ => Problems.Of(StatusCodes.Status410Gone, "payment-expired", "Payment expired",
                $"The payment deadline {order.PaymentDeadline:O} has passed; the unit goes back on sale.",
                new Dictionary<string, object?> { ["paymentDeadline"] = order.PaymentDeadline }),
        };
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NotReady(HttpContext context)
    {
        context.Response.Headers.RetryAfter = "1";
        return Problems.Of(StatusCodes.Status409Conflict, "not-ready", "Order not written yet",
            "The purchase is accepted and its order is still being written; retry shortly.");
    }
}
