namespace Seckill.IntegrationTests.Fixtures;

/// <summary>
/// Where the real PostgreSQL, RabbitMQ and Redis servers are: the environment, else the env file
/// that <c>infra/services.sh up</c> writes, else containers when a Docker engine is reachable.
/// </summary>
public static class ServiceEndpoints
{
    public const string StartCommand = "bash infra/services.sh up";

    /// <summary>Settings in configuration form (<c>Seckill:Redis:Shards:0</c>), or null when neither variables nor the env file exist.</summary>
    public static Dictionary<string, string?>? FromEnvironmentOrEnvFile()
    {
        var fromEnvironment = Environment.GetEnvironmentVariables()
            .Cast<System.Collections.DictionaryEntry>()
            .Select(e => ((string)e.Key, (string?)e.Value))
            .Where(e => IsServiceKey(e.Item1))
            .ToList();
        if (fromEnvironment.Any(e => e.Item1 == "ConnectionStrings__Seckill"))
        {
            return ToConfiguration(fromEnvironment);
        }

        var envFile = FindEnvFile();
        return envFile is null ? null : ToConfiguration(ParseEnvFile(envFile));
    }

    public static string? FindEnvFile()
    {
        var explicitPath = Environment.GetEnvironmentVariable("SECKILL_ENV_FILE");
        if (!string.IsNullOrEmpty(explicitPath))
        {
            return File.Exists(explicitPath) ? explicitPath : null;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Seckill.Pipeline.sln")))
            {
                var path = Path.Combine(dir.FullName, ".local", "seckill.env");
                return File.Exists(path) ? path : null;
            }
        }

        return null;
    }

    /// <summary>KEY='value' lines; one pair of surrounding single quotes is stripped, as the shell would.</summary>
    public static IEnumerable<(string Key, string? Value)> ParseEnvFile(string path)
    {
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (line.Length == 0 || line.StartsWith('#') || equals <= 0)
            {
                continue;
            }

            var value = line[(equals + 1)..];
            if (value.Length >= 2 && value[0] == '\'' && value[^1] == '\'')
            {
                value = value[1..^1];
            }

            yield return (line[..equals], value);
        }
    }

    private static bool IsServiceKey(string key) =>
        key.StartsWith("Seckill__", StringComparison.Ordinal) || key.StartsWith("ConnectionStrings__", StringComparison.Ordinal);

    private static Dictionary<string, string?> ToConfiguration(IEnumerable<(string Key, string? Value)> pairs) =>
        pairs.Where(p => IsServiceKey(p.Key)).ToDictionary(p => p.Key.Replace("__", ":", StringComparison.Ordinal), p => p.Value);
}
