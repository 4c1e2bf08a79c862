namespace Seckill.Intake.Campaigns;

/// <summary>
/// Numbers are read as <see cref="long"/> so that an out-of-range stock is reported by name
/// instead of failing as an overflow.
/// </summary>
public sealed record CreateCampaignRequest(string? Name, long? Stock, DateTimeOffset? StartsAt, DateTimeOffset? EndsAt, long? Shards)
{
    public const int MaxStock = 10_000_000;
    public const int MaxShards = 1024;
    public const int MaxNameLength = 200;

    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(Name))
        {
            errors["name"] = ["name is required."];
        }
        else if (Name.Length > MaxNameLength || Name.Any(char.IsControl))
        {
            errors["name"] = [$"name must be at most {MaxNameLength} characters without control characters."];
        }

        if (Stock is null)
        {
            errors["stock"] = ["stock is required."];
        }
        else if (Stock is < 1 or > MaxStock)
        {
            errors["stock"] = [$"stock must be between 1 and {MaxStock}."];
        }

        if (Shards is < 1 or > MaxShards)
        {
            errors["shards"] = [$"shards must be between 1 and {MaxShards}."];
        }

        if (EndsAt is { } ends && ends <= (StartsAt ?? DateTimeOffset.MinValue))
        {
            errors["endsAt"] = ["endsAt must be later than startsAt."];
        }

        return errors;
    }
}
