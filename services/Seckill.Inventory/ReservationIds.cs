using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Seckill.Inventory;

/// <summary>
/// Reservation ids are RFC 9562 version-8 UUIDs that carry the campaign's number and the shard
/// holding the token, so <c>GET /api/reservations/{id}</c> finds the token with one Redis read and
/// no index. The other 74 bits are random, which keeps ids unguessable.
/// Layout (big-endian): campaign number (32 bits) | shard (16) | version 8 (4) | random (12) | variant (2) | random (62).
/// </summary>
public static class ReservationIds
{
    public static Guid New(int campaignNumber, int shard)
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes[6..]);
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)campaignNumber);
        BinaryPrimitives.WriteUInt16BigEndian(bytes[4..], (ushort)shard);
        bytes[6] = (byte)(0x80 | (bytes[6] & 0x0F));
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F));
        return new Guid(bytes, bigEndian: true);
    }

    public static bool TryDecode(Guid id, out int campaignNumber, out int shard)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        campaignNumber = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes);
        shard = BinaryPrimitives.ReadUInt16BigEndian(bytes[4..]);
        return (bytes[6] & 0xF0) == 0x80 && (bytes[8] & 0xC0) == 0x80 && campaignNumber > 0;
    }
}
