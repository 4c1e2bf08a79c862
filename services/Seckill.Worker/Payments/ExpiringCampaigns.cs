namespace Seckill.Worker.Payments;

/// <summary>
/// The campaigns whose unpaid orders this worker's expiry moves: every campaign in production (any
/// worker may expire any order). A test confines its worker to its own campaigns, as it does the
/// sweeper, because the database it shares holds other tests' orders whose deadlines pass too.
/// </summary>
public sealed class ExpiringCampaigns
{
    public static readonly ExpiringCampaigns All = new(null);

    public ExpiringCampaigns(IEnumerable<Guid>? only) => Only = only?.ToArray();

    /// <summary>Null: every campaign.</summary>
    public Guid[]? Only { get; }
}
