using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Tailor.Format.Encoding;

namespace Tailor.Format.Codecs;

/// <summary>
/// Tailor's default series codec (id 2, name <c>"tailor"</c>): timestamp deltas and values as
/// integer columns (frame of reference or zigzag around a sampled median, common divisor, one bit
/// width per column, patched exceptions), with values first scaled losslessly to decimal integers
/// where they are decimals (ALP-style, exponent per block, exceptions kept verbatim), else taken as
/// order-preserving integer images of their bit patterns; zstd over the block body where it pays.
/// </summary>
/// <remarks>
/// Lossless for every input: each value either round-trips through its decimal integer (checked with
/// the decoder's exact arithmetic when encoding) or is stored bit for bit. The byte layout is in
/// <c>docs/codecs.md</c>. Instances are immutable and thread-safe; per-thread scratch memory makes
/// steady-state calls allocation-free.
/// </remarks>
public sealed class TailorCodec : ISeriesCodec
{
    /// <summary>The codec id: 2.</summary>
    public const byte CodecId = 2;

    /// <summary>The largest decimal exponent of the format.</summary>
    public const int MaxDecimalExponent = 18;

    private const byte BodyPlain = 0;
    private const byte BodyZstd = 1;
    private const byte ValuesRaw = 0;
    private const byte ValuesDecimal = 1;
    private const byte ValuesBits = 2;
    private const byte ValuesDelta = 4;
    private const int SampleSize = 32;
    // Digits are kept below 2^53, where every integer is exact as a double: wider digits would cost as
    // many bits as the bit pattern itself, so values needing them are better off in the bits mode.
    private const double ScaledLimit = 9007199254740992.0; // 2^53

    private readonly TailorCodecOptions _options;

    /// <summary>A codec with <see cref="TailorCodecOptions.Default"/>.</summary>
    public TailorCodec()
        : this(TailorCodecOptions.Default)
    {
    }

    /// <summary>A codec with the given encoder options.</summary>
    /// <param name="options">Encoder options; validated here.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public TailorCodec(TailorCodecOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
    }

    /// <summary>The encoder options.</summary>
    public TailorCodecOptions Options => _options;

    /// <inheritdoc/>
    public byte Id => CodecId;

    /// <inheritdoc/>
    public string Name => "tailor";

    /// <inheritdoc/>
    public int GetMaxEncodedLength(int pointCount)
    {
        SeriesCodecs.ValidateCount(pointCount);
        return checked(64 + (16 * pointCount));
    }

    /// <inheritdoc/>
    public OperationStatus ReadPointCount(ReadOnlySpan<byte> source, out int pointCount)
    {
        pointCount = 0;
        int position = 1;
        if (source.IsEmpty || source[0] > BodyZstd || !VarInt.TryRead(source, ref position, out ulong count) || count > SeriesCodecs.MaxPointCount)
        {
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
        destination[0] = BodyPlain;
        int position = 1;
        VarInt.Write(destination, ref position, (ulong)n);
        if (n == 0)
        {
            return position;
        }

        var scratch = CodecScratch.Current;
        scratch.EnsurePoints(n);
        int bodyStart = position;
        VarInt.Write(destination, ref position, VarInt.ZigZag(timestamps[0]));
        if (n > 1)
        {
            var deltas = scratch.LongsA.AsSpan(0, n - 1);
            for (int i = 1; i < n; i++)
            {
                deltas[i - 1] = unchecked(timestamps[i] - timestamps[i - 1]);
            }

            var plan = IntegerColumn.Plan(deltas);
            IntegerColumn.Write(deltas, plan, destination, ref position);
        }

        WriteValues(values, destination, ref position, scratch);
        if (_options.UseZstd && position - bodyStart >= _options.ZstdMinBodyLength)
        {
            position = TryCompressBody(destination, bodyStart, position, scratch);
        }

        return position;
    }

    /// <inheritdoc/>
    public OperationStatus Decode(ReadOnlySpan<byte> source, Span<long> timestamps, Span<double> values, out int pointsDecoded, out int bytesConsumed)
    {
        pointsDecoded = 0;
        bytesConsumed = 0;
        if (source.IsEmpty || source[0] > BodyZstd)
        {
            return OperationStatus.InvalidData;
        }

        int position = 1;
        if (!VarInt.TryRead(source, ref position, out ulong count) || count > SeriesCodecs.MaxPointCount)
        {
            return OperationStatus.InvalidData;
        }

        int n = (int)count;
        if (n == 0)
        {
            if (source[0] != BodyPlain)
            {
                return OperationStatus.InvalidData;
            }

            bytesConsumed = position;
            return OperationStatus.Done;
        }

        if (timestamps.Length < n || values.Length < n)
        {
            return OperationStatus.DestinationTooSmall;
        }

        if (source[0] == BodyPlain)
        {
            if (!TryReadBody(source, ref position, timestamps[..n], values[..n]))
            {
                return OperationStatus.InvalidData;
            }
        }
        else
        {
            if (!VarInt.TryRead(source, ref position, out ulong bodyLength) || bodyLength > (ulong)GetMaxEncodedLength(n)
                || !VarInt.TryRead(source, ref position, out ulong frameLength) || frameLength > (ulong)(source.Length - position))
            {
                return OperationStatus.InvalidData;
            }

            var scratch = CodecScratch.Current;
            var body = scratch.EnsureBytes((int)bodyLength).AsSpan(0, (int)bodyLength);
            int produced = scratch.Decompress(source.Slice(position, (int)frameLength), body);
            int bodyPosition = 0;
            if (produced != (int)bodyLength || !TryReadBody(body, ref bodyPosition, timestamps[..n], values[..n]) || bodyPosition != body.Length)
            {
                return OperationStatus.InvalidData;
            }

            position += (int)frameLength;
        }

        pointsDecoded = n;
        bytesConsumed = position;
        return OperationStatus.Done;
    }

    private int TryCompressBody(Span<byte> destination, int bodyStart, int bodyEnd, CodecScratch scratch)
    {
        int bodyLength = bodyEnd - bodyStart;
        int limit = (int)(bodyEnd * (1 - _options.ZstdMinSavings));
        var frame = scratch.EnsureBytes(bodyLength).AsSpan(0, bodyLength);
        int frameLength = scratch.Compress(destination[bodyStart..bodyEnd], frame, _options.ZstdLevel);
        if (frameLength <= 0)
        {
            return bodyEnd;
        }

        int compressedEnd = bodyStart + VarInt.GetLength((ulong)bodyLength) + VarInt.GetLength((ulong)frameLength) + frameLength;
        if (compressedEnd > limit)
        {
            return bodyEnd;
        }

        destination[0] = BodyZstd;
        int position = bodyStart;
        VarInt.Write(destination, ref position, (ulong)bodyLength);
        VarInt.Write(destination, ref position, (ulong)frameLength);
        frame[..frameLength].CopyTo(destination[position..]);
        return position + frameLength;
    }

    private static bool TryReadBody(ReadOnlySpan<byte> source, ref int position, Span<long> timestamps, Span<double> values)
    {
        int n = timestamps.Length;
        if (!VarInt.TryRead(source, ref position, out ulong first))
        {
            return false;
        }

        long t = VarInt.UnZigZag(first);
        timestamps[0] = t;
        if (n > 1)
        {
            var deltas = timestamps[1..];
            if (!IntegerColumn.TryRead(source, ref position, deltas))
            {
                return false;
            }

            for (int i = 0; i < deltas.Length; i++)
            {
                t = unchecked(t + deltas[i]);
                deltas[i] = t;
            }
        }

        return TryReadValues(source, ref position, values);
    }

    private void WriteValues(ReadOnlySpan<double> values, Span<byte> destination, ref int position, CodecScratch scratch)
    {
        int n = values.Length;
        long rawBytes = 1 + (8L * n);

        // Decimal: value = d / 10^e for all but a few values, which are kept verbatim.
        long decimalBytes = long.MaxValue;
        bool decimalDelta = false;
        ColumnPlan decimalPlan = default;
        int exceptionCount = 0;
        int exponent = ChooseExponent(values, _options.MaxDecimalExponent);
        var digits = scratch.LongsA.AsSpan(0, n);
        var digitDeltas = scratch.LongsB.AsSpan(0, Math.Max(0, n - 1));
        var positions = scratch.Positions;
        if (exponent >= 0)
        {
            double scale = Pow10[exponent];
            int firstGood = -1;
            long last = 0;
            for (int i = 0; i < n; i++)
            {
                double v = values[i];
                double scaled = v * scale;
                if (Math.Abs(scaled) < ScaledLimit)
                {
                    long d = (long)Math.Round(scaled);
                    if (BitConverter.DoubleToInt64Bits(d / scale) == BitConverter.DoubleToInt64Bits(v))
                    {
                        digits[i] = d;
                        last = d;
                        if (firstGood < 0)
                        {
                            firstGood = i;
                        }

                        continue;
                    }
                }

                // Not decimal at this exponent: kept verbatim; the slot repeats its neighbour to stay cheap.
                digits[i] = last;
                positions[exceptionCount++] = i;
            }

            if (firstGood >= 0 && exceptionCount <= n / 2)
            {
                digits[..firstGood].Fill(digits[firstGood]);
                long exceptionBytes = VarInt.GetLength((ulong)exceptionCount);
                int previous = -1;
                for (int k = 0; k < exceptionCount; k++)
                {
                    exceptionBytes += VarInt.GetLength((ulong)(positions[k] - previous - 1)) + 8;
                    previous = positions[k];
                }

                decimalPlan = IntegerColumn.Plan(digits);
                long columnBytes = decimalPlan.MaxBytes;
                if (n > 1)
                {
                    for (int i = 1; i < n; i++)
                    {
                        digitDeltas[i - 1] = unchecked(digits[i] - digits[i - 1]);
                    }

                    var deltaPlan = IntegerColumn.Plan(digitDeltas);
                    long deltaBytes = VarInt.GetLength(VarInt.ZigZag(digits[0])) + deltaPlan.MaxBytes;
                    if (deltaBytes < columnBytes)
                    {
                        decimalDelta = true;
                        decimalPlan = deltaPlan;
                        columnBytes = deltaBytes;
                    }
                }

                decimalBytes = 2 + columnBytes + exceptionBytes;
            }
        }

        // Bits: order-preserving integer images of the bit patterns, for values that are not decimals.
        long bitsBytes = long.MaxValue;
        bool bitsDelta = false;
        ColumnPlan bitsPlan = default;
        var keys = scratch.LongsC.AsSpan(0, n);
        var keyDeltas = scratch.LongsD.AsSpan(0, Math.Max(0, n - 1));
        if (decimalBytes == long.MaxValue || exceptionCount > 0)
        {
            for (int i = 0; i < n; i++)
            {
                keys[i] = ToKey(BitConverter.DoubleToInt64Bits(values[i]));
            }

            bitsPlan = IntegerColumn.Plan(keys);
            long columnBytes = bitsPlan.MaxBytes;
            if (n > 1)
            {
                for (int i = 1; i < n; i++)
                {
                    keyDeltas[i - 1] = unchecked(keys[i] - keys[i - 1]);
                }

                var deltaPlan = IntegerColumn.Plan(keyDeltas);
                long deltaBytes = VarInt.GetLength(VarInt.ZigZag(keys[0])) + deltaPlan.MaxBytes;
                if (deltaBytes < columnBytes)
                {
                    bitsDelta = true;
                    bitsPlan = deltaPlan;
                    columnBytes = deltaBytes;
                }
            }

            bitsBytes = 1 + columnBytes;
        }

        if (decimalBytes <= bitsBytes && decimalBytes <= rawBytes)
        {
            destination[position++] = (byte)(ValuesDecimal | (decimalDelta ? ValuesDelta : 0));
            destination[position++] = (byte)exponent;
            WriteSequence(digits, digitDeltas, decimalDelta, decimalPlan, destination, ref position);
            VarInt.Write(destination, ref position, (ulong)exceptionCount);
            int previous = -1;
            for (int k = 0; k < exceptionCount; k++)
            {
                int at = positions[k];
                VarInt.Write(destination, ref position, (ulong)(at - previous - 1));
                BinaryPrimitives.WriteInt64LittleEndian(destination[position..], BitConverter.DoubleToInt64Bits(values[at]));
                position += 8;
                previous = at;
            }
        }
        else if (bitsBytes <= rawBytes)
        {
            destination[position++] = (byte)(ValuesBits | (bitsDelta ? ValuesDelta : 0));
            WriteSequence(keys, keyDeltas, bitsDelta, bitsPlan, destination, ref position);
        }
        else
        {
            destination[position++] = ValuesRaw;
            for (int i = 0; i < n; i++)
            {
                BinaryPrimitives.WriteInt64LittleEndian(destination[position..], BitConverter.DoubleToInt64Bits(values[i]));
                position += 8;
            }
        }
    }

    private static void WriteSequence(ReadOnlySpan<long> values, ReadOnlySpan<long> deltas, bool delta, in ColumnPlan plan, Span<byte> destination, ref int position)
    {
        if (!delta)
        {
            IntegerColumn.Write(values, plan, destination, ref position);
            return;
        }

        VarInt.Write(destination, ref position, VarInt.ZigZag(values[0]));
        IntegerColumn.Write(deltas, plan, destination, ref position);
    }

    private static bool TryReadValues(ReadOnlySpan<byte> source, ref int position, Span<double> values)
    {
        int n = values.Length;
        if ((uint)position >= (uint)source.Length)
        {
            return false;
        }

        int mode = source[position++];
        int kind = mode & 3;
        bool delta = (mode & ValuesDelta) != 0;
        if ((mode & ~7) != 0 || kind == 3 || (kind == ValuesRaw && delta))
        {
            return false;
        }

        if (kind == ValuesRaw)
        {
            if ((long)n * 8 > source.Length - position)
            {
                return false;
            }

            var raw = source.Slice(position, n * 8);
            if (BitConverter.IsLittleEndian)
            {
                raw.CopyTo(MemoryMarshal.AsBytes(values));
            }
            else
            {
                for (int i = 0; i < n; i++)
                {
                    values[i] = BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(raw[(i * 8)..]));
                }
            }

            position += n * 8;
            return true;
        }

        int exponent = 0;
        if (kind == ValuesDecimal)
        {
            if ((uint)position >= (uint)source.Length)
            {
                return false;
            }

            exponent = source[position++];
            if (exponent > MaxDecimalExponent)
            {
                return false;
            }
        }

        var longs = MemoryMarshal.Cast<double, long>(values);
        if (!TryReadSequence(source, ref position, longs, delta))
        {
            return false;
        }

        if (kind == ValuesBits)
        {
            for (int i = 0; i < longs.Length; i++)
            {
                longs[i] = ToKey(longs[i]); // the mapping is its own inverse
            }

            return true;
        }

        if (exponent == 0)
        {
            for (int i = 0; i < longs.Length; i++)
            {
                values[i] = longs[i];
            }
        }
        else
        {
            double scale = Pow10[exponent];
            for (int i = 0; i < longs.Length; i++)
            {
                values[i] = longs[i] / scale;
            }
        }

        if (!VarInt.TryRead(source, ref position, out ulong exceptionCount) || exceptionCount > (ulong)n)
        {
            return false;
        }

        int previous = -1;
        for (ulong k = 0; k < exceptionCount; k++)
        {
            if (!VarInt.TryRead(source, ref position, out ulong gap) || gap >= (ulong)(n - previous - 1) || source.Length - position < 8)
            {
                return false;
            }

            int at = previous + 1 + (int)gap;
            values[at] = BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(source[position..]));
            position += 8;
            previous = at;
        }

        return true;
    }

    private static bool TryReadSequence(ReadOnlySpan<byte> source, ref int position, Span<long> output, bool delta)
    {
        if (!delta)
        {
            return IntegerColumn.TryRead(source, ref position, output);
        }

        if (!VarInt.TryRead(source, ref position, out ulong first))
        {
            return false;
        }

        long x = VarInt.UnZigZag(first);
        output[0] = x;
        if (output.Length > 1)
        {
            var rest = output[1..];
            if (!IntegerColumn.TryRead(source, ref position, rest))
            {
                return false;
            }

            for (int i = 0; i < rest.Length; i++)
            {
                x = unchecked(x + rest[i]);
                rest[i] = x;
            }
        }

        return true;
    }

    /// <summary>
    /// The exponent e for which most values are exactly d / 10^e: the largest minimal exponent among a
    /// sample of up to 32 values, or -1 when more than a quarter of the sample is not decimal at all.
    /// </summary>
    private static int ChooseExponent(ReadOnlySpan<double> values, int limit)
    {
        int n = values.Length;
        int count = Math.Min(SampleSize, n);
        int failures = 0;
        int exponent = 0;
        for (int j = 0; j < count; j++)
        {
            int e = MinimalExponent(values[(int)((long)j * n / count)], limit);
            if (e < 0)
            {
                if (++failures * 4 > count)
                {
                    return -1;
                }
            }
            else if (e > exponent)
            {
                exponent = e;
            }
        }

        return failures * 4 > count || failures == count ? -1 : exponent;
    }

    private static int MinimalExponent(double v, int limit)
    {
        long bits = BitConverter.DoubleToInt64Bits(v);
        for (int e = 0; e <= limit; e++)
        {
            double scale = Pow10[e];
            double scaled = v * scale;
            if (!(Math.Abs(scaled) < ScaledLimit))
            {
                return -1;
            }

            long d = (long)Math.Round(scaled);
            if (BitConverter.DoubleToInt64Bits(d / scale) == bits)
            {
                return e;
            }
        }

        return -1;
    }

    /// <summary>Maps IEEE bits to a signed integer that orders like the value (−0.0 and +0.0 adjacent); an involution.</summary>
    private static long ToKey(long bits) => bits ^ ((bits >> 63) & long.MaxValue);

    /// <summary>Exact powers of ten 10^0 .. 10^18.</summary>
    private static ReadOnlySpan<double> Pow10 =>
    [
        1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
    ];
}
