using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Seckill.Intake.Http;

/// <summary>Route ids are taken as text and parsed here, so a malformed id is a 400 naming it rather than a silent 404.</summary>
public static class RouteIds
{
    public static bool TryParse(string raw, string name, out Guid id, [NotNullWhen(false)] out ProblemHttpResult? problem)
    {
        if (Guid.TryParseExact(raw, "D", out id) || Guid.TryParseExact(raw, "N", out id))
        {
            problem = null;
            return true;
        }

        problem = Problems.Invalid(name, $"'{name}' must be a GUID.");
        return false;
    }
}
