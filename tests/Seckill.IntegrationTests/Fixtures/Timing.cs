namespace Seckill.IntegrationTests.Fixtures;

/// <summary>
/// Tests that measure time from the stores (a write rate within ±5 %) run alone, after the rest: on two
/// shared cores a neighbour's burst stalled a 7/s worker for two seconds and measured the machine, not
/// the limiter.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class Timing
{
    public const string Name = "timing";
}
