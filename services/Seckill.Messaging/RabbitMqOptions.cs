using System.ComponentModel.DataAnnotations;

namespace Seckill.Messaging;

/// <summary>The broker, from configuration or the environment (<c>Seckill__RabbitMq__*</c>); credentials never live in code.</summary>
public sealed class RabbitMqOptions
{
    public const string Section = "Seckill:RabbitMq";

    [Required]
    public required string Host { get; init; }

    [Range(1, 65535)]
    public int Port { get; init; } = 5672;

    public string VirtualHost { get; init; } = "/";

    [Required]
    public required string Username { get; init; }

    [Required]
    public required string Password { get; init; }

    /// <summary>The management UI and API, used by operators and the tests to read queue depths.</summary>
    [Range(1, 65535)]
    public int ManagementPort { get; init; } = 15672;

    /// <summary>How long start-up waits for the broker before the process gives up with a clear error.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(20);
}
