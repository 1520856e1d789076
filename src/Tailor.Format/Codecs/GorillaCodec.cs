using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tailor.Format.Encoding;

namespace Tailor.Format.Codecs;

/// <summary>
/// The reference codec: Gorilla's delta-of-delta timestamps and XOR-compressed values (Pelkonen et al.,
/// "Gorilla: A Fast, Scalable, In-Memory Time Series Database", VLDB 2015), id 1, name <c>"gorilla"</c>.
/// </summary>
/// <remarks>
/// The bit-level scheme is the paper's: the delta-of-delta of each timestamp goes into the
/// <c>0</c> / <c>10</c>+7 / <c>110</c>+9 / <c>1110</c>+12 / <c>1111</c>+32 bit buckets, each value is
/// XORed with the previous one and written as <c>0</c> (same), <c>10</c> + meaningful bits (inside the
/// previous leading/trailing-zero window) or <c>11</c> + 5 bits leading zeros + 6 bits length +
/// meaningful bits. Two extensions make it lossless for every int64: the first delta is coded as a
/// delta-of-delta against 0 (the paper's 14-bit first delta assumes two-hour blocks), and the 32-bit
/// bucket value 0x80000000 escapes to a full 64-bit delta-of-delta. <c>docs/codecs.md</c> gives the
/// byte layout.
/// </remarks>
public sealed class GorillaCodec : ISeriesCodec
{
    /// <summary>The codec id: 1.</summary>
    public const byte CodecId = 1;

    // Worst case per point after the first: 4 + 32 + 64 timestamp bits and 2 + 5 + 6 + 64 value bits.
    private const int MaxBitsPerPoint = 100 + 77;
    private const int HeaderMaxLength = VarInt.MaxLength64 + 16;

    /// <inheritdoc/>
    public byte Id => CodecId;

    /// <inheritdoc/>
    public string Name => "gorilla";

    /// <inheritdoc/>
    public int GetMaxEncodedLength(int pointCount)
    {
        SeriesCodecs.ValidateCount(pointCount);
        long bits = Math.Max(0, pointCount - 1) * (long)MaxBitsPerPoint;
        // The bit writer stores whole 64-bit words.
        return checked((int)(HeaderMaxLength + (((bits + 63) / 64) * 8)));
    }

    /// <inheritdoc/>
    public OperationStatus ReadPointCount(ReadOnlySpan<byte> source, out int pointCount)
    {
        int position = 0;
        if (!VarInt.TryRead(source, ref position, out ulong count) || count > SeriesCodecs.MaxPointCount)
        {
            pointCount = 0;
            return OperationStatus.InvalidData;
        }

        pointCount = (int)count;
        return OperationStatus.Done;
    }

    /// <inheritdoc/>
    public int Encode(ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values, Span<byte> destination)
    {
        SeriesCodecs.ValidateEncodeArguments(this, timestamps, values, destination);
        int n = timestamps.Length;
        int position = 0;
        VarInt.Write(destination, ref position, (ulong)n);
        if (n == 0)
        {
            return position;
        }

        long t = timestamps[0];
        ulong v = BitConverter.DoubleToUInt64Bits(values[0]);
        BinaryPrimitives.WriteInt64LittleEndian(destination[position..], t);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[(position + 8)..], v);
        position += 16;
        if (n == 1)
        {
            return position;
        }

        var writer = new BitWriter(destination[position..]);
        long previousDelta = 0;
        int previousLeading = -1;
        int previousTrailing = 0;
        for (int i = 1; i < n; i++)
        {
            long timestamp = timestamps[i];
            long delta = unchecked(timestamp - t);
            long dod = unchecked(delta - previousDelta);
            t = timestamp;
            previousDelta = delta;
            if (dod == 0)
            {
                writer.Write(0, 1);
            }
            else if (dod >= -63 && dod <= 64)
            {
                writer.Write((0b10UL << 7) | ((ulong)dod & 0x7F), 9);
            }
            else if (dod >= -255 && dod <= 256)
            {
                writer.Write((0b110UL << 9) | ((ulong)dod & 0x1FF), 12);
            }
            else if (dod >= -2047 && dod <= 2048)
            {
                writer.Write((0b1110UL << 12) | ((ulong)dod & 0xFFF), 16);
            }
            else if (dod > int.MinValue && dod <= int.MaxValue)
            {
                writer.Write((0b1111UL << 32) | (uint)(int)dod, 36);
            }
            else
            {
                writer.Write((0b1111UL << 32) | 0x8000_0000UL, 36);
                writer.Write((ulong)dod, 64);
            }

            ulong bits = BitConverter.DoubleToUInt64Bits(values[i]);
            ulong xor = bits ^ v;
            v = bits;
            if (xor == 0)
            {
                writer.Write(0, 1);
                continue;
            }

            int leading = Math.Min(BitOperations.LeadingZeroCount(xor), 31);
            int trailing = BitOperations.TrailingZeroCount(xor);
            if (previousLeading >= 0 && leading >= previousLeading && trailing >= previousTrailing)
            {
                writer.Write(0b10, 2);
                writer.Write(xor >> previousTrailing, 64 - previousLeading - previousTrailing);
            }
            else
            {
                int length = 64 - leading - trailing;
                writer.Write((0b11UL << 11) | ((ulong)leading << 6) | ((ulong)length & 63), 13);
                writer.Write(xor >> trailing, length);
                previousLeading = leading;
                previousTrailing = trailing;
            }
        }

        return position + writer.Finish();
    }

    /// <inheritdoc/>
    public OperationStatus Decode(ReadOnlySpan<byte> source, Span<long> timestamps, Span<double> values, out int pointsDecoded, out int bytesConsumed)
    {
        pointsDecoded = 0;
        bytesConsumed = 0;
        int position = 0;
        if (!VarInt.TryRead(source, ref position, out ulong count) || count > SeriesCodecs.MaxPointCount)
        {
            return OperationStatus.InvalidData;
        }

        int n = (int)count;
        if (n == 0)
        {
            bytesConsumed = position;
            return OperationStatus.Done;
        }

        if (timestamps.Length < n || values.Length < n)
        {
            return OperationStatus.DestinationTooSmall;
        }

        if (source.Length - position < 16)
        {
            return OperationStatus.InvalidData;
        }

        long t = BinaryPrimitives.ReadInt64LittleEndian(source[position..]);
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(source[(position + 8)..]);
        position += 16;
        timestamps[0] = t;
        values[0] = BitConverter.UInt64BitsToDouble(v);
        if (n == 1)
        {
            bytesConsumed = position;
            pointsDecoded = 1;
            return OperationStatus.Done;
        }

        var stream = source[position..];
        long totalBits = (long)stream.Length * 8;
        long bit = 0;
        long delta = 0;
        int leading = -1;
        int trailing = 0;
        ref long ts = ref MemoryMarshal.GetReference(timestamps);
        ref double vs = ref MemoryMarshal.GetReference(values);
        for (int i = 1; i < n; i++)
        {
            // A point needs at least 2 bits; checking here bounds the work garbage can cause.
            if (bit > totalBits)
            {
                return OperationStatus.InvalidData;
            }

            ulong w = Peek(stream, bit);
            int ones = BitOperations.LeadingZeroCount(~w);
            long dod;
            switch (ones)
            {
                case 0:
                    dod = 0;
                    bit += 1;
                    break;
                case 1:
                {
                    long raw = (long)((w >> (64 - 9)) & 0x7F);
                    dod = raw > 64 ? raw - 128 : raw;
                    bit += 9;
                    break;
                }

                case 2:
                {
                    long raw = (long)((w >> (64 - 12)) & 0x1FF);
                    dod = raw > 256 ? raw - 512 : raw;
                    bit += 12;
                    break;
                }

                case 3:
                {
                    long raw = (long)((w >> (64 - 16)) & 0xFFF);
                    dod = raw > 2048 ? raw - 4096 : raw;
                    bit += 16;
                    break;
                }

                default:
                {
                    uint raw = (uint)(w >> (64 - 36));
                    bit += 36;
                    if (raw == 0x8000_0000U)
                    {
                        dod = (long)Peek(stream, bit);
                        bit += 64;
                    }
                    else
                    {
                        dod = (int)raw;
                    }

                    break;
                }
            }

            delta = unchecked(delta + dod);
            t = unchecked(t + delta);
            Unsafe.Add(ref ts, i) = t;

            w = Peek(stream, bit);
            if ((long)w >= 0)
            {
                bit += 1;
            }
            else if ((w & (1UL << 62)) == 0)
            {
                if (leading < 0)
                {
                    return OperationStatus.InvalidData; // window reuse before any window
                }

                int length = 64 - leading - trailing;
                bit += 2;
                ulong meaningful = Peek(stream, bit) >> (64 - length);
                bit += length;
                v ^= meaningful << trailing;
            }
            else
            {
                leading = (int)(w >> (64 - 7)) & 31;
                int length = (int)(w >> (64 - 13)) & 63;
                if (length == 0)
                {
                    length = 64;
                }

                trailing = 64 - leading - length;
                if (trailing < 0)
                {
                    return OperationStatus.InvalidData;
                }

                bit += 13;
                ulong meaningful = Peek(stream, bit) >> (64 - length);
                bit += length;
                v ^= meaningful << trailing;
            }

            Unsafe.Add(ref vs, i) = BitConverter.UInt64BitsToDouble(v);
        }

        if (bit > totalBits)
        {
            return OperationStatus.InvalidData;
        }

        bytesConsumed = position + (int)((bit + 7) >> 3);
        pointsDecoded = n;
        return OperationStatus.Done;
    }

    /// <summary>The 64 bits starting at bit <paramref name="bit"/> (MSB first), zero past the end of the stream.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Peek(ReadOnlySpan<byte> stream, long bit)
    {
        long index = bit >> 3;
        int shift = (int)(bit & 7);
        if (index + 9 <= stream.Length)
        {
            ref byte at = ref Unsafe.Add(ref MemoryMarshal.GetReference(stream), (nint)index);
            ulong word = Unsafe.ReadUnaligned<ulong>(ref at);
            if (BitConverter.IsLittleEndian)
            {
                word = BinaryPrimitives.ReverseEndianness(word);
            }

            return (word << shift) | (uint)(Unsafe.Add(ref at, 8) >> (8 - shift));
        }

        return PeekSlow(stream, index, shift);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong PeekSlow(ReadOnlySpan<byte> stream, long index, int shift)
    {
        ulong word = 0;
        for (int k = 0; k < 8; k++)
        {
            long at = index + k;
            word = (word << 8) | (at < stream.Length ? stream[(int)at] : 0UL);
        }

        long next = index + 8;
        ulong extra = next < stream.Length ? stream[(int)next] : 0UL;
        return (word << shift) | (extra >> (8 - shift));
    }

    /// <summary>An MSB-first bit writer that stores whole big-endian 64-bit words.</summary>
    private ref struct BitWriter
    {
        private readonly Span<byte> _destination;
        private int _position;
        private ulong _word;
        private int _used;

        public BitWriter(Span<byte> destination)
        {
            _destination = destination;
        }

        /// <summary>Appends the low <paramref name="count"/> (1 .. 64) bits of <paramref name="value"/>; higher bits must be zero.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Write(ulong value, int count)
        {
            int free = 64 - _used;
            if (count < free)
            {
                _word |= value << (free - count);
                _used += count;
                return;
            }

            int rest = count - free;
            _word |= value >> rest;
            BinaryPrimitives.WriteUInt64BigEndian(_destination[_position..], _word);
            _position += 8;
            _word = rest == 0 ? 0 : value << (64 - rest);
            _used = rest;
        }

        /// <summary>Writes the partial last word (only its used bytes) and returns the total byte count.</summary>
        public int Finish()
        {
            int bytes = (_used + 7) >> 3;
            for (int k = 0; k < bytes; k++)
            {
                _destination[_position + k] = (byte)(_word >> (56 - (8 * k)));
            }

            return _position + bytes;
        }
    }
}
