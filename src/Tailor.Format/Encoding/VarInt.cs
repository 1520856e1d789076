using System.Runtime.CompilerServices;

namespace Tailor.Format.Encoding;

/// <summary>
/// Unsigned LEB128 variable-length integers (7 bits a byte, low groups first, high bit set on every
/// byte but the last) and zigzag mapping of signed integers, as used by the payload format.
/// </summary>
public static class VarInt
{
    /// <summary>The longest encoding of a 64-bit value: 10 bytes.</summary>
    public const int MaxLength64 = 10;

    /// <summary>Maps a signed value to an unsigned one so small magnitudes stay small (0→0, −1→1, 1→2, …).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    /// <summary>Inverse of <see cref="ZigZag(long)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long UnZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    /// <summary>The number of bytes <paramref name="value"/> takes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int GetLength(ulong value) => (70 - System.Numerics.BitOperations.LeadingZeroCount(value | 1)) / 7;

    /// <summary>Writes <paramref name="value"/> at the start of <paramref name="destination"/>.</summary>
    /// <returns>The number of bytes written.</returns>
    /// <remarks>The caller guarantees room for <see cref="MaxLength64"/> bytes or <see cref="GetLength"/> of the value.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Write(Span<byte> destination, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>Writes <paramref name="value"/> at <paramref name="position"/> and advances it.</summary>
    /// <remarks>The caller guarantees room for the value's <see cref="GetLength"/> bytes.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write(Span<byte> destination, ref int position, ulong value) =>
        position += Write(destination[position..], value);

    /// <summary>
    /// Reads one value starting at <paramref name="position"/> and advances it.
    /// </summary>
    /// <returns>False when the bytes end inside the value or the encoding is longer than 10 bytes or overflows 64 bits.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(ReadOnlySpan<byte> source, ref int position, out ulong value)
    {
        var p = position;
        if ((uint)p < (uint)source.Length)
        {
            var b = source[p];
            if (b < 0x80)
            {
                value = b;
                position = p + 1;
                return true;
            }
        }

        return TryReadSlow(source, ref position, out value);
    }

    private static bool TryReadSlow(ReadOnlySpan<byte> source, ref int position, out ulong value)
    {
        ulong result = 0;
        var shift = 0;
        var p = position;
        while ((uint)p < (uint)source.Length)
        {
            var b = source[p++];
            if (shift == 63 && b > 1)
            {
                break; // more than 64 bits
            }

            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                value = result;
                position = p;
                return true;
            }

            shift += 7;
            if (shift > 63)
            {
                break;
            }
        }

        value = 0;
        return false;
    }
}
