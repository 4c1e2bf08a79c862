using Microsoft.AspNetCore.Http.HttpResults;
using Seckill.Intake.Http;
using StackExchange.Redis;

namespace Seckill.Intake.Campaigns;

public static class CampaignEndpoints
{
    public const int MaxBodyBytes = 16 * 1024;

    public static IEndpointRouteBuilder MapCampaigns(this IEndpointRouteBuilder routes)
    {
        var admin = routes.MapGroup("/api/campaigns").AddEndpointFilter<AdminKeyFilter>().WithTags("Campaigns (admin)");
        admin.MapPost("", CreateAsync);
        admin.MapGet("", ListAsync);
        admin.MapGet("{id}", GetAsync);
        admin.MapPost("{id}/end", EndAsync);
        admin.MapGet("{id}/reconciliation", (string id, CampaignCatalog catalog, InventoryReconciler reconciler, CancellationToken cancellationToken) =>
            ReconcileAsync(id, apply: false, catalog, reconciler, cancellationToken));
        admin.MapPost("{id}/reconciliation", (string id, CampaignCatalog catalog, InventoryReconciler reconciler, CancellationToken cancellationToken) =>
            ReconcileAsync(id, apply: true, catalog, reconciler, cancellationToken));
        return routes;
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, CampaignCatalog catalog, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!IdempotencyKey.TryRead(request, out var creationKey, out var keyProblem))
        {
            return keyProblem!;
        }

        var body = await JsonBody.ReadAsync<CreateCampaignRequest>(request, MaxBodyBytes, cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }

        if (body.IsEmpty)
        {
            return Problems.Invalid("body", "A JSON body {name, stock, startsAt?, endsAt?, shards?} is required.");
        }

        var errors = body.Value!.Validate(clock.GetUtcNow());
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        CreatedCampaign created;
        try
        {
            created = await catalog.CreateAsync(body.Value, creationKey, cancellationToken);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, "inventory-unavailable", "Virtual inventory could not be loaded",
                $"The campaign was stored but not all shards could be loaded ({e.Message}). It stays off sale until loaded; " +
                $"retry with the same {IdempotencyKey.Header}, or it is completed in the background.");
        }

        if (created.KeyReusedWithOtherValues)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "idempotency-key-reused", "Idempotency-Key already used",
                $"Campaign {created.Campaign.Id} was created with this {IdempotencyKey.Header} and different values.");
        }

        var view = await catalog.ViewAsync(created.Campaign);
        return TypedResults.Created($"/api/campaigns/{view.Id}", view);
    }

    private static async Task<Ok<IReadOnlyList<CampaignView>>> ListAsync(CampaignCatalog catalog, CancellationToken cancellationToken) =>
        TypedResults.Ok(await catalog.ListAsync(cancellationToken));

    /// <summary>GET reports each shard's drift; POST also writes the corrected stock and restores buyers' markers.</summary>
    private static async Task<IResult> ReconcileAsync(
        string id, bool apply, CampaignCatalog catalog, InventoryReconciler reconciler, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, "id", out var campaignId, out var problem))
        {
            return problem;
        }

        // An archived campaign has no keys left to compare with; applying would write its stock back.
        if (await catalog.FindAsync(campaignId, cancellationToken) is { ArchivedAt: { } archivedAt })
        {
            return Problems.Of(StatusCodes.Status409Conflict, "archived", "Campaign archived",
                $"Its keys were deleted from Redis at {archivedAt:O}; there is nothing to reconcile.");
        }

        return await reconciler.ReconcileAsync(campaignId, apply, cancellationToken) is { } report
            ? TypedResults.Ok(report)
            : Problems.NotFound("Campaign", $"No campaign {campaignId}.");
    }

    /// <summary>
    /// Idempotent in effect: the first call ends the sale (200 with the ended campaign); any later call,
    /// or one after the scheduled end, changes nothing and answers 409 <c>already-ended</c> with the time.
    /// </summary>
    private static async Task<IResult> EndAsync(string id, CampaignCatalog catalog, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, "id", out var campaignId, out var problem))
        {
            return problem;
        }

        if (await catalog.EndAsync(campaignId, cancellationToken) is not var (campaign, endedNow))
        {
            return Problems.NotFound("Campaign", $"No campaign {campaignId}.");
        }

        return endedNow
            ? TypedResults.Ok(await catalog.ViewAsync(campaign))
            : Problems.Of(StatusCodes.Status409Conflict, "already-ended", "Campaign already ended",
                $"The sale ended at {campaign.ClosesAt:O}; nothing was changed.",
                new Dictionary<string, object?> { ["endedAt"] = campaign.ClosesAt });
    }

    private static async Task<IResult> GetAsync(string id, CampaignCatalog catalog, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, "id", out var campaignId, out var problem))
        {
            return problem;
        }

        return await catalog.FindAsync(campaignId, cancellationToken) is { } campaign
            ? TypedResults.Ok(await catalog.ViewAsync(campaign))
            : Problems.NotFound("Campaign", $"No campaign {campaignId}.");
    }
}
