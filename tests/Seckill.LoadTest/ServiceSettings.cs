using System.Globalization;

namespace Seckill.LoadTest;

public sealed record RabbitManagement(string Host, int Port, string VirtualHost, string Username, string Password);

/// <summary>Endpoints and credentials, named as the services name them (<c>Seckill__…</c>, <c>ConnectionStrings__Seckill</c>).</summary>
public sealed record ServiceSettings(string Postgres, IReadOnlyList<string> RedisShards, RabbitManagement Rabbit, string AdminKey)
{
    public const string SolutionFile = "Seckill.Pipeline.sln";

    /// <summary>The gateway's private key (<c>Seckill__Gateway__SigningKeyPath</c>), when the env file names one.</summary>
    public string? SigningKeyPath { get; init; }

    /// <summary><c>Seckill__Gateway__Issuer</c>, when set: tokens must carry the issuer the gateway checks.</summary>
    public string? Issuer { get; init; }

    /// <summary><c>Seckill__Gateway__Audience</c>, when set.</summary>
    public string? Audience { get; init; }

    public static string? FindRepoRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, SolutionFile)))
                {
                    return folder.FullName;
                }
            }
        }

        return null;
    }

    /// <summary>The env file's values, overridden by environment variables of the same names.</summary>
    public static ServiceSettings Load(string? envFile, string? repoRoot)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var path = envFile ?? (repoRoot is null ? null : Path.Combine(repoRoot, ".local", "seckill.env"));
        if (path is not null && File.Exists(path))
        {
            foreach (var (key, value) in ParseEnvFile(File.ReadLines(path)))
            {
                values[key] = value;
            }
        }
        else if (envFile is not null)
        {
            throw new UsageException($"--env-file '{envFile}' does not exist.");
        }

        foreach (var key in Environment.GetEnvironmentVariables().Keys.OfType<string>())
        {
            if (key.StartsWith("Seckill__", StringComparison.Ordinal) || key.StartsWith("ConnectionStrings__", StringComparison.Ordinal))
            {
                values[key] = Environment.GetEnvironmentVariable(key) ?? "";
            }
        }

        string Required(string key) => values.TryGetValue(key, out var value) && value.Length > 0
            ? value
            : throw new UsageException(
                $"{key} is not set: start the services with 'bash infra/services.sh up' (it writes .local/seckill.env), " +
                $"pass --env-file, or set it in the environment (looked in {path ?? "no env file: no repo root found"}).");

        var shards = new List<string>();
        for (var i = 0; values.TryGetValue($"Seckill__Redis__Shards__{i}", out var endpoint) && endpoint.Length > 0; i++)
        {
            shards.Add(endpoint);
        }

        if (shards.Count == 0)
        {
            Required("Seckill__Redis__Shards__0");
        }

        var portText = values.GetValueOrDefault("Seckill__RabbitMq__ManagementPort", "15672");
        if (!int.TryParse(portText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var managementPort))
        {
            throw new UsageException($"Seckill__RabbitMq__ManagementPort is not a port number: '{portText}'.");
        }

        var rabbit = new RabbitManagement(
            Required("Seckill__RabbitMq__Host"),
            managementPort,
            values.GetValueOrDefault("Seckill__RabbitMq__VirtualHost", "/"),
            Required("Seckill__RabbitMq__Username"),
            Required("Seckill__RabbitMq__Password"));
        string? Optional(string key) => values.TryGetValue(key, out var value) && value.Length > 0 ? value : null;
        return new ServiceSettings(Required("ConnectionStrings__Seckill"), shards, rabbit, Required("Seckill__AdminKey"))
        {
            SigningKeyPath = Optional("Seckill__Gateway__SigningKeyPath"),
            Issuer = Optional("Seckill__Gateway__Issuer"),
            Audience = Optional("Seckill__Gateway__Audience"),
        };
    }

    /// <summary>KEY='value' lines: split at the first '=', one pair of surrounding single quotes stripped.</summary>
    public static IEnumerable<KeyValuePair<string, string>> ParseEnvFile(IEnumerable<string> lines)
    {
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (line.StartsWith("export ", StringComparison.Ordinal))
            {
                line = line["export ".Length..].TrimStart();
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }

            var value = line[(equals + 1)..];
            if (value.Length >= 2 && value[0] == '\'' && value[^1] == '\'')
            {
                value = value[1..^1];
            }

            yield return new(line[..equals], value);
        }
    }
}
