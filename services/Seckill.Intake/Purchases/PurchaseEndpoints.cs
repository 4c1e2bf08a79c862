using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Seckill.Intake.Campaigns;
using Seckill.Intake.Http;
using Seckill.Observability;

namespace Seckill.Intake.Purchases;

public sealed record PurchaseAccepted(Guid ReservationId, string Status);

public static class PurchaseEndpoints
{
    public const string RateLimitPolicy = "purchases";

    public static IEndpointRouteBuilder MapPurchases(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/campaigns/{id}/purchases", PurchaseAsync)
            .RequireRateLimiting(RateLimitPolicy)
            .WithTags("Purchases");
        return routes;
    }

    private static async Task<IResult> PurchaseAsync(
        string id,
        HttpRequest request,
        CampaignDirectory campaigns,
        SoldOutFlags soldOut,
        PurchaseHandler purchases,
        TimeProvider clock,
        IOptions<IntakeOptions> options,
        SeckillMetrics metrics,
        CancellationToken cancellationToken)
    {
        var result = await DecideAsync(id, request, campaigns, soldOut, purchases, clock, options, cancellationToken);
        metrics.Purchase(OutcomeOf(result));
        return result;
    }

    /// <summary>
    /// The <c>outcome</c> tag of an answer. 429 is counted where admission control refuses
    /// (<see cref="AdmissionControl"/>): such a request never reaches this endpoint.
    /// </summary>
    internal static string OutcomeOf(IResult result) => result switch
    {
        Accepted<PurchaseAccepted> => PurchaseOutcomes.Accepted,
        FixedProblem fixedProblem => fixedProblem.Code,
        ProblemHttpResult problem => problem.StatusCode switch
        {
            StatusCodes.Status404NotFound => PurchaseOutcomes.NotFound,
            StatusCodes.Status503ServiceUnavailable => PurchaseOutcomes.Unavailable,
            StatusCodes.Status409Conflict or StatusCodes.Status410Gone
                when problem.ProblemDetails.Extensions.TryGetValue("code", out var code) && code is string text => text,
            _ => PurchaseOutcomes.Invalid,
        },
        _ => PurchaseOutcomes.Invalid,
    };

    /// <summary>S3 qualification in order of cost: header and body checks, then the cached campaign, then the in-memory sold-out flag; only then Redis.</summary>
    private static async Task<IResult> DecideAsync(
        string id,
        HttpRequest request,
        CampaignDirectory campaigns,
        SoldOutFlags soldOut,
        PurchaseHandler purchases,
        TimeProvider clock,
        IOptions<IntakeOptions> options,
        CancellationToken cancellationToken)
    {
        if (!BuyerId.TryRead(request, out var userId, out var problem)
            || !RouteIds.TryParse(id, "id", out var campaignId, out problem)
            || !IdempotencyKey.TryRead(request, out var idempotencyKey, out problem))
        {
            return problem!;
        }

        var body = await JsonBody.ReadAsync<JsonElement>(request, options.Value.MaxPurchaseBodyBytes, cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }

        if (!body.IsEmpty && body.Value.ValueKind != JsonValueKind.Object)
        {
            return Problems.Invalid("body", "The purchase body, when sent, must be a JSON object such as {}.");
        }

        if (await campaigns.FindAsync(campaignId) is not { } campaign)
        {
            return Problems.NotFound("Campaign", $"No campaign {campaignId}.");
        }

        // Ended before not-started: a sale an admin ended before it began will never start.
        var now = clock.GetUtcNow();
        if (campaign.ClosesAt is { } closesAt && now >= closesAt)
        {
            return Problems.Of(StatusCodes.Status410Gone, "ended", "Campaign ended", $"The sale ended at {closesAt:O}.");
        }

        if (now < campaign.StartsAt || !campaign.OnSale)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "not-started", "Campaign not started",
                campaign.OnSale ? $"The sale starts at {campaign.StartsAt:O}." : "The campaign's stock is still being loaded.");
        }

        // A retry with its Idempotency-Key (the gateway answered 502: the first attempt may have reserved) is
        // owed that attempt's answer, not the flag's: one GET of the buyer's marker tells whether there is one.
        if (soldOut.IsSoldOut(campaign.Id) && (idempotencyKey is null || !await purchases.MayHoldReservationAsync(campaign, userId)))
        {
            return SoldOut;
        }

        return await purchases.PurchaseAsync(campaign, userId, idempotencyKey) switch
        {
            PurchaseOutcome.Accepted accepted => TypedResults.Accepted(
                $"/api/reservations/{accepted.ReservationId}", new PurchaseAccepted(accepted.ReservationId, "pending")),
            PurchaseOutcome.AlreadyPurchased => AlreadyPurchased,
            PurchaseOutcome.SoldOut => SoldOut,
            PurchaseOutcome.Unavailable unavailable => RetryLater(request.HttpContext, unavailable.Code, unavailable.Detail),
            var other => throw new InvalidOperationException($"Unhandled purchase outcome {other}."),
        };
    }

    private static readonly FixedProblem SoldOut =
        new(StatusCodes.Status410Gone, "sold-out", "Sold out", "Every unit of this campaign is reserved or sold.");

    private static readonly FixedProblem AlreadyPurchased =
        new(StatusCodes.Status409Conflict, "already-purchased", "Already purchased", "This buyer already holds a reservation in this campaign.");

    private static ProblemHttpResult RetryLater(HttpContext context, string code, string detail)
    {
        context.Response.Headers.RetryAfter = "1";
        return Problems.Of(StatusCodes.Status503ServiceUnavailable, code, "Try again shortly", detail);
    }
}
