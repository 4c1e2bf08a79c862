namespace Seckill.Data;

public sealed class DatabaseOptions
{
    public const string Section = "Seckill:Database";

    /// <summary>
    /// Apply pending migrations when a service starts. EF Core takes a database lock while migrating,
    /// so several processes starting at once are safe; production may turn this off and run
    /// <c>Seckill.Intake migrate</c> as a release step instead.
    /// </summary>
    public bool MigrateOnStart { get; init; } = true;
}
