using System.IO.Hashing;
using System.Text;

namespace Seckill.Inventory;

/// <summary>
/// A buyer's home shard. XxHash32 of the UTF-8 user id, not <see cref="string.GetHashCode()"/>,
/// which differs per process and would send one buyer to different shards on different intakes.
/// </summary>
public static class HomeShard
{
    private const int MaxUserIdBytes = 256;

    public static int Of(string userId, int shards)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        var byteCount = Encoding.UTF8.GetByteCount(userId);
        Span<byte> buffer = byteCount <= MaxUserIdBytes ? stackalloc byte[MaxUserIdBytes] : new byte[byteCount];
        var written = Encoding.UTF8.GetBytes(userId, buffer);
        return (int)(XxHash32.HashToUInt32(buffer[..written]) % (uint)shards);
    }
}
