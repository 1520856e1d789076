using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tailor.Format.Codecs;

/// <summary>LEB128 unsigned varints and zigzag mapping, as the codecs' byte layouts use them.</summary>
internal static class VarInt
{
    /// <summary>The most bytes a 64-bit varint takes.</summary>
    public const int MaxLength = 10;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long UnZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    /// <summary>The encoded length of <paramref name="value"/>: 1 .. 10.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Length(ulong value) => ((70 - BitOperations.LeadingZeroCount(value | 1)) * 37) >> 8;

    /// <summary>Writes <paramref name="value"/> at <paramref name="position"/> and advances it. The caller guarantees room.</summary>
    public static void Write(Span<byte> destination, ref int position, ulong value)
    {
        while (value >= 0x80)
        {
            destination[position++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[position++] = (byte)value;
    }

    /// <summary>Reads a varint; false when the input ends first or the encoding is longer than 10 bytes or overflows.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, ref int position, out ulong value)
    {
        value = 0;
        int pos = position;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if ((uint)pos >= (uint)source.Length)
            {
                return false;
            }

            byte b = source[pos++];
            if (shift == 63 && b > 1)
            {
                return false; // bits beyond 64
            }

            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                position = pos;
                return true;
            }
        }

        return false;
    }
}
