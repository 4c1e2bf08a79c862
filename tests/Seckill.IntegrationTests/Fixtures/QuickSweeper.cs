namespace Seckill.IntegrationTests.Fixtures;

/// <summary>
/// A worker's sweeper turned on with its timeout shortened to 2 s and a round every 250 ms, so a test
/// sees in seconds what takes half a minute in production. Pass the test's own campaigns to
/// <see cref="PipelineFixture.CreateWorker"/> with it.
/// </summary>
public static class QuickSweeper
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    /// <summary><paramref name="settings"/> plus the quick sweeper's.</summary>
    public static Dictionary<string, string?> With(IReadOnlyDictionary<string, string?> settings) =>
        new(settings)
        {
            ["Seckill:Sweeper:Enabled"] = "true",
            ["Seckill:Sweeper:PendingTimeout"] = Timeout.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
            ["Seckill:Sweeper:Interval"] = "00:00:00.250",
        };
}
