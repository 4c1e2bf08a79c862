using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.FileProviders;
using Seckill.Data;
using Seckill.Intake.Campaigns;
using Seckill.Intake.Http;

namespace Seckill.Intake.Dashboard;

public sealed record DashboardCampaign(Guid Id, string Name, int Stock, DateTimeOffset CreatedAt);

/// <param name="Queue">Null when the management API could not be read.</param>
/// <param name="At">The server's clock when the sample was taken; the page divides count deltas by its differences.</param>
public sealed record LiveCampaign(CampaignView Campaign, QueueDepth? Queue, DateTimeOffset At);

/// <summary>The live dashboard: static page at <c>/dashboard</c> and its two admin-only JSON routes.</summary>
public static class DashboardEndpoints
{
    public const string PagePath = "/dashboard";

    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        // A line per poll and dashboard would drown the log; failures are logged by QueueDepths once.
        services.AddHttpClient<QueueDepths>().RemoveAllLoggers();
        return services;
    }

    public static WebApplication UseDashboard(this WebApplication app)
    {
        // The files are copied next to the assembly, so the page is there whatever the content root
        // (infra/run.sh points it at bin/, the tests' factory at the project folder).
        var files = new PhysicalFileProvider(Path.Combine(AppContext.BaseDirectory, "wwwroot", "dashboard"));
        app.UseDefaultFiles(new DefaultFilesOptions { RequestPath = PagePath, FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            RequestPath = PagePath,
            FileProvider = files,
            // A redeployed intake must not keep serving an old script from the browser's cache.
            OnPrepareResponse = context => context.Context.Response.Headers.CacheControl = "no-cache",
        });

        var admin = app.MapGroup("/api").AddEndpointFilter<AdminKeyFilter>().WithTags("Dashboard (admin)");
        admin.MapGet("dashboard/campaigns", ListAsync);
        admin.MapGet("campaigns/{id}/live", LiveAsync);
        return app;
    }

    private static async Task<IResult> ListAsync(SeckillDbContext db, CancellationToken cancellationToken) =>
        TypedResults.Ok(await db.Campaigns.AsNoTracking()
            .OrderByDescending(c => c.CreatedAt)
            .Take(CampaignCatalog.ListLimit)
            .Select(c => new DashboardCampaign(c.Id, c.Name, c.TotalStock, c.CreatedAt))
            .ToListAsync(cancellationToken));

    private static async Task<IResult> LiveAsync(
        string id, CampaignCatalog catalog, QueueDepths queues, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, "id", out var campaignId, out var problem))
        {
            return problem;
        }

        if (await catalog.FindAsync(campaignId, cancellationToken) is not { } campaign)
        {
            return Problems.NotFound("Campaign", $"No campaign {campaignId}.");
        }

        var queue = queues.ReadAsync(cancellationToken);
        var view = await catalog.ViewAsync(campaign);
        return TypedResults.Ok(new LiveCampaign(view, await queue, clock.GetUtcNow()));
    }
}
