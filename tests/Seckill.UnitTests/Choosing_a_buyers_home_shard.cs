using Seckill.Inventory;

namespace Seckill.UnitTests;

public class Choosing_a_buyers_home_shard
{
    [Fact]
    public void Is_the_same_in_every_process()
    {
        // Pinned values: string.GetHashCode would change them per process and split one buyer over shards.
        Assert.Equal(HomeShard.Of("alice", 1024), HomeShard.Of(new string("alice".AsSpan()), 1024));
        Assert.Equal(PinnedXxHash32("alice") % 1024, (uint)HomeShard.Of("alice", 1024));
    }

    [Fact]
    public void Spreads_buyers_evenly()
    {
        const int shards = 4;
        const int buyers = 40_000;
        var counts = new int[shards];
        for (var i = 0; i < buyers; i++)
        {
            counts[HomeShard.Of($"user-{i}", shards)]++;
        }

        Assert.All(counts, count => Assert.InRange(count, buyers / shards * 0.95, buyers / shards * 1.05));
    }

    [Fact]
    public void Stays_in_range_for_unicode_and_long_ids()
    {
        Assert.InRange(HomeShard.Of("购买者-👍", 7), 0, 6);
        Assert.InRange(HomeShard.Of(new string('é', 64), 3), 0, 2);
        Assert.Equal(0, HomeShard.Of("anyone", 1));
    }

    /// <summary>XxHash32 with seed 0 written out from the specification, independent of the library.</summary>
    private static uint PinnedXxHash32(string text)
    {
        const uint prime1 = 2654435761U, prime3 = 3266489917U, prime4 = 668265263U, prime5 = 374761393U;
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        var hash = prime5 + (uint)bytes.Length;
        var i = 0;
        for (; i + 4 <= bytes.Length; i += 4)
        {
            hash += BitConverter.ToUInt32(bytes, i) * prime3;
            hash = uint.RotateLeft(hash, 17) * prime4;
        }

        for (; i < bytes.Length; i++)
        {
            hash += bytes[i] * prime5;
            hash = uint.RotateLeft(hash, 11) * prime1;
        }

        hash ^= hash >> 15;
        hash *= 2246822519U;
        hash ^= hash >> 13;
        hash *= prime3;
        hash ^= hash >> 16;
        return hash;
    }
}
