using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Seckill.IntegrationTests.Observability;

/// <summary>
/// Tests that read the process-wide counters run alone, after the rest: another test's purchases in
/// this process would count in the same series.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class Metering
{
    public const string Name = "metering";
}

/// <summary>Reads Prometheus text exposition as the tests need it: one metric's value, summed over the series that match.</summary>
public static partial class Scraping
{
    /// <summary>The worker's own listener (it took a free port): http://127.0.0.1:port.</summary>
    public static Uri HttpAddressOf(IHost worker)
    {
        var address = worker.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new Uri($"http://127.0.0.1:{new Uri(address).Port}");
    }

    /// <summary>Sum of <paramref name="metric"/> over the series whose labels include every one of <paramref name="labels"/>.</summary>
    public static double Value(string exposition, string metric, params (string Name, string Value)[] labels)
    {
        var total = 0.0;
        foreach (var line in exposition.Split('\n'))
        {
            var match = Sample().Match(line);
            if (!match.Success || match.Groups["name"].Value != metric)
            {
                continue;
            }

            var text = match.Groups["labels"].Value;
            if (labels.All(l => text.Contains($"{l.Name}=\"{l.Value}\"", StringComparison.Ordinal)))
            {
                total += double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return total;
    }

    public static async Task<string> ScrapeAsync(this HttpClient client, Uri? baseAddress = null)
    {
        var response = await client.GetAsync(baseAddress is null ? new Uri("/metrics", UriKind.Relative) : new Uri(baseAddress, "/metrics"));
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})?\s+(?<value>\S+)")]
    private static partial Regex Sample();
}
