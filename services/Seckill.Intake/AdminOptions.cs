using System.ComponentModel.DataAnnotations;

namespace Seckill.Intake;

public sealed class AdminOptions
{
    public const string Section = "Seckill";

    /// <summary>From configuration or the environment (<c>Seckill__AdminKey</c>), never from code.</summary>
    [Required, MinLength(16)]
    public required string AdminKey { get; init; }
}
