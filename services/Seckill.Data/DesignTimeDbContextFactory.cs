using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Seckill.Data;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without starting a service.</summary>
public sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<SeckillDbContext>
{
    public SeckillDbContext CreateDbContext(string[] args)
    {
        var connectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Seckill")
            ?? "Host=127.0.0.1;Database=seckill;Username=seckill";
        return new SeckillDbContext(new DbContextOptionsBuilder<SeckillDbContext>().UseNpgsql(connectionString).Options);
    }
}
