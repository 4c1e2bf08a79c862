using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Seckill.Intake.Purchases;

/// <summary>
/// Once every shard of a campaign answered empty, the crowd behind is told "sold out" from memory,
/// without touching Redis. The flag lives at most <see cref="IntakeOptions.SoldOutFlagLifetime"/>,
/// so units returned by compensation are offered again promptly.
/// </summary>
public sealed class SoldOutFlags(IOptions<IntakeOptions> options, TimeProvider clock)
{
    private readonly ConcurrentDictionary<Guid, long> _until = new();

    public bool IsSoldOut(Guid campaignId) =>
        _until.TryGetValue(campaignId, out var until) && clock.GetTimestamp() < until;

    public void MarkSoldOut(Guid campaignId) =>
        _until[campaignId] = clock.GetTimestamp() + (long)(options.Value.SoldOutFlagLifetime.TotalSeconds * clock.TimestampFrequency);
}
