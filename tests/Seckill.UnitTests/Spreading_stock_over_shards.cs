using Seckill.Inventory;

namespace Seckill.UnitTests;

public class Spreading_stock_over_shards
{
    public static TheoryData<int, int> Edges => new()
    {
        { 0, 1 }, { 0, 1024 }, { 1, 1 }, { 1, 1024 }, { 7, 4 }, { 1023, 1024 }, { 1025, 1024 },
        { 10_000_000, 1 }, { 10_000_000, 3 }, { 10_000_000, 1024 },
    };

    [Theory]
    [MemberData(nameof(Edges))]
    public void Keeps_every_property_at_the_edges(int stock, int shards) => AssertFair(stock, shards);

    [Fact]
    public void Keeps_every_property_for_random_stock_and_shard_counts()
    {
        // A fixed seed keeps a failure reproducible; 5,000 draws cover the ranges well.
        var random = new Random(20261126);
        for (var draw = 0; draw < 5_000; draw++)
        {
            AssertFair(random.Next(0, 10_000_001), random.Next(1, 1025));
        }
    }

    [Fact]
    public void Refuses_no_shards_and_negative_stock()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => StockAllocation.Split(10, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => StockAllocation.Split(-1, 4));
    }

    private static void AssertFair(int stock, int shards)
    {
        var shares = StockAllocation.Split(stock, shards);

        Assert.Equal(shards, shares.Length);
        Assert.Equal(stock, shares.Sum(s => (long)s));
        Assert.True(shares.Max() - shares.Min() <= 1, $"stock {stock} over {shards}: shares differ by more than one");
        for (var i = 1; i < shares.Length; i++)
        {
            Assert.True(shares[i - 1] >= shares[i], $"stock {stock} over {shards}: shard {i} holds more than shard {i - 1}");
        }
    }
}
