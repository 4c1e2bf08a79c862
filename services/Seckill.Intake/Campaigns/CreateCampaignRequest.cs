using System.Globalization;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Seckill.Intake.Campaigns;

/// <summary>
/// Numbers are read as <see cref="long"/> so that an out-of-range stock is reported by name
/// instead of failing as an overflow. Times are read as text so that one without a UTC offset is
/// refused by name: read as a date, it would silently take the server's own time zone.
/// </summary>
public sealed partial record CreateCampaignRequest(string? Name, long? Stock, string? StartsAt, string? EndsAt, long? Shards, long? PaymentWindow)
{
    public const int DefaultPaymentWindow = 600;
    public const int MinPaymentWindow = 30;
    public const int MaxPaymentWindow = 86_400;
    public const int MaxStock = 10_000_000;
    public const int MaxShards = 1024;
    public const int MaxNameLength = 200;

    /// <summary>The sale's start; null: now. Valid once <see cref="Validate"/> found no error.</summary>
    [JsonIgnore]
    public DateTimeOffset? StartsAtTime => TryReadTime(StartsAt, out var time) ? time : null;

    /// <summary>The sale's end; null: open-ended. Valid once <see cref="Validate"/> found no error.</summary>
    [JsonIgnore]
    public DateTimeOffset? EndsAtTime => TryReadTime(EndsAt, out var time) ? time : null;

    public Dictionary<string, string[]> Validate(DateTimeOffset now)
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

        if (PaymentWindow is < MinPaymentWindow or > MaxPaymentWindow)
        {
            errors["paymentWindow"] = [$"paymentWindow must be between {MinPaymentWindow} and {MaxPaymentWindow} seconds."];
        }

        var startsOk = CheckTime("startsAt", StartsAt, errors);
        if (CheckTime("endsAt", EndsAt, errors) && EndsAtTime is { } ends)
        {
            // A window already over would be stored as a campaign nobody can ever buy from.
            if (ends <= now)
            {
                errors["endsAt"] = [$"endsAt must be in the future (now is {now.UtcDateTime:O})."];
            }
            else if (startsOk && ends <= (StartsAtTime ?? now))
            {
                errors["endsAt"] = ["endsAt must be later than startsAt."];
            }
        }

        return errors;
    }

    private static bool CheckTime(string field, string? text, Dictionary<string, string[]> errors)
    {
        if (text is null || TryReadTime(text, out _))
        {
            return true;
        }

        errors[field] = [$"{field} must be an ISO 8601 date and time with its UTC offset, such as 2030-01-01T09:00:00Z or 2030-01-01T17:00:00+08:00."];
        return false;
    }

    private static bool TryReadTime(string? text, out DateTimeOffset time)
    {
        time = default;
        return text is not null
            && IsoWithOffset().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out time);
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$")]
    private static partial Regex IsoWithOffset();
}
