using System.Text.Json;
using Seckill.Inventory;

namespace Seckill.Intake.Campaigns;

/// <summary><c>Seckill.Intake reconcile &lt;campaign id&gt; [--apply]</c>: the reconciliation route, for operators without HTTP access.</summary>
public static class ReconcileCommand
{
    private static readonly JsonSerializerOptions Output = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static async Task<int> RunAsync(IServiceProvider services, string campaign, bool apply)
    {
        if (!Guid.TryParse(campaign, out var campaignId))
        {
            await Console.Error.WriteLineAsync($"'{campaign}' is not a campaign id.");
            return 2;
        }

        var connections = services.GetRequiredService<ShardConnections>();
        await connections.StartAsync(CancellationToken.None);
        var report = await services.GetRequiredService<InventoryReconciler>().ReconcileAsync(campaignId, apply, CancellationToken.None);
        if (report is null)
        {
            await Console.Error.WriteLineAsync($"No campaign {campaignId}.");
            return 1;
        }

        await Console.Out.WriteLineAsync(JsonSerializer.Serialize(report, Output));
        return 0;
    }
}
