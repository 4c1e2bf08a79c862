namespace Seckill.IntegrationTests.Fixtures;

/// <summary>The HTTP contract (docs/api.md) as the tests read it, independent of the service's own types.</summary>
public sealed record CampaignJson(
    Guid Id,
    string Name,
    int Stock,
    DateTimeOffset StartsAt,
    DateTimeOffset? EndsAt,
    string Status,
    DateTimeOffset? EndedAt,
    int PaymentWindow,
    List<ShardJson> Shards,
    CountsJson Counts);

public sealed record ShardJson(int Index, long VirtualStock);

public sealed record CountsJson(long Confirmed, long Pending, long Failed, long AwaitingPayment, long Paid, long PaymentExpired);

public sealed record ProblemJson(int Status, string Type, string Code, string Title, string? Detail, Dictionary<string, string[]>? Errors);
