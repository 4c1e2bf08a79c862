using System.Globalization;
using Npgsql;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Security;

/// <summary>The local scripts bind every server to 127.0.0.1: nothing of the sale is reachable from another machine.</summary>
public class Listening_on_loopback_only(PipelineFixture fixture)
{
    [Fact]
    public void Every_service_port_listens_on_127_0_0_1_and_nowhere_else()
    {
        Assert.SkipWhen(fixture.UsesContainers, "the servers are Testcontainers, which publish their own ports");

        var ports = new List<int>
        {
            new NpgsqlConnectionStringBuilder(fixture.Settings["ConnectionStrings:Seckill"]).Port,
            int.Parse(fixture.Settings["Seckill:RabbitMq:Port"]!, CultureInfo.InvariantCulture),
            int.Parse(fixture.Settings["Seckill:RabbitMq:ManagementPort"]!, CultureInfo.InvariantCulture),
        };
        ports.AddRange(fixture.RedisEndpoints.Select(e => int.Parse(e.Split(',')[0].Split(':')[1], CultureInfo.InvariantCulture)));

        var listeners = Listeners("/proc/net/tcp").Concat(Listeners("/proc/net/tcp6")).ToList();
        foreach (var port in ports)
        {
            var addresses = listeners.Where(l => l.Port == port).Select(l => l.Address).ToList();
            Assert.True(addresses.Count > 0, $"nothing listens on port {port}");
            Assert.All(addresses, address => Assert.Equal("0100007F", address));
        }
    }

    /// <summary>LISTEN sockets (state 0A) from the kernel's table: local address in hex, port.</summary>
    private static IEnumerable<(string Address, int Port)> Listeners(string table)
    {
        if (!File.Exists(table))
        {
            yield break;
        }

        foreach (var line in File.ReadLines(table).Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 3 && fields[3] == "0A")
            {
                var local = fields[1].Split(':');
                yield return (local[0], int.Parse(local[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            }
        }
    }
}
