using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.InteropServices;
using Tailor.Format.Encoding;

namespace Tailor.Format.Codecs;

/// <summary>
/// Tailor's series codec, in three versions: id 2 (<c>"tailor"</c>), id 3 (<c>"tailor2"</c>, the default)
/// and id 4 (<c>"tailor3"</c>). Timestamp deltas and values are
/// integer columns (frame of reference or zigzag around a sampled median, common divisor, one bit
/// width per column, patched exceptions), with values first scaled losslessly to decimal integers
/// where they are decimals (ALP-style, exponent per block, exceptions kept verbatim), else taken as
/// order-preserving integer images of their bit patterns; zstd over the block body where it pays.
/// Version 2 adds quotient values: a value that is exactly a decimal divided by an integer
/// (busy ticks over total ticks, a sum over a count) is stored as its numerator and denominator.
/// Version 3 has version 2's layout and makes its choices by measured size: it keeps a zstd pass over a
/// block whenever the block gets smaller, and when two value layouts are estimated close it writes both
/// and keeps the smaller block.
/// </summary>
public sealed partial class TailorCodec : ISeriesCodec
{
    /// <summary>The codec id of version 1: 2.</summary>
    public const byte CodecId = 2;

    /// <summary>The codec id of version 2 (quotient values): 3.</summary>
    public const byte Version2CodecId = 3;

    /// <summary>The codec id of version 3: 4.</summary>
    public const byte Version3CodecId = 4;

    /// <summary>The largest decimal exponent of the format.</summary>
    public const int MaxDecimalExponent = 18;

    private const byte BodyPlain = 0;
    private const byte BodyZstd = 1;
    private const byte ValuesRaw = 0;
    private const byte ValuesDecimal = 1;
    private const byte ValuesBits = 2;
    private const byte ValuesQuotient = 3;
    private const byte ValuesDelta = 4;
    private const byte DenominatorDelta = 8;
    private const int QuotientSampleSize = 16;
    private const int MaxQuotientExponent = 6;
    private const int DenominatorWindow = 32; // half the window of candidates around the previous denominator
    private const long MaxDenominator = 1L << 32;
    private const double NearIntegerTolerance = 1.0 / (1L << 44);
    private const double ConvergedFraction = 1.0 / 256;
    private const int SampleSize = 32;
    // Digits are kept below 2^53, where every integer is exact as a double: wider digits would cost as
    // many bits as the bit pattern itself, so values needing them are better off in the bits mode.
    private const double ScaledLimit = 9007199254740992.0; // 2^53

    private readonly TailorCodecOptions _options;
    private readonly bool _quotients;
    private readonly bool _useZstd;
    private readonly int _version;
    private readonly int _zstdMinBodyLength;
    private readonly double _zstdMinSavings;

    /// <summary>Version 1 (id 2) with <see cref="TailorCodecOptions.Default"/>.</summary>
    public TailorCodec()
        : this(TailorCodecOptions.Default)
    {
    }

    /// <summary>Version 1 (id 2) with the given encoder options.</summary>
    /// <param name="options">Encoder options; validated here.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public TailorCodec(TailorCodecOptions options)
        : this(options, 1)
    {
    }

    /// <summary>
    /// The given version (1: id 2, <c>"tailor"</c>; 2: id 3, <c>"tailor2"</c>; 3: id 4, <c>"tailor3"</c>)
    /// with the given encoder options.
    /// </summary>
    /// <param name="options">Encoder options; validated here.</param>
    /// <param name="version">1, 2 or 3. Versions 2 and 3 read and write quotient values; version 1 rejects them.
    /// Version 3 has version 2's layout and chooses by measured size (see the remarks of <see cref="TailorCodec"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">An option or the version is out of range.</exception>
    public TailorCodec(TailorCodecOptions options, int version)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(version, 3);
        options.Validate();
        _options = options;
        _version = version;
        _quotients = version >= 2;
        _useZstd = options.UseZstd ?? version != 2;
        _zstdMinBodyLength = options.ZstdMinBodyLength ?? (version == 3 ? TailorCodecOptions.MeasuredZstdMinBodyLength : TailorCodecOptions.DefaultZstdMinBodyLength);
        _zstdMinSavings = options.ZstdMinSavings ?? (version == 3 ? 0 : TailorCodecOptions.DefaultZstdMinSavings);
    }

    /// <summary>The encoder options.</summary>
    public TailorCodecOptions Options => _options;

    /// <summary>The version: 1 (id 2), 2 (id 3, adds quotient values) or 3 (id 4, version 2's layout, choices by measured size).</summary>
    public int Version => _version;

    /// <inheritdoc/>
    public byte Id => _version switch { 1 => CodecId, 2 => Version2CodecId, _ => Version3CodecId };

    /// <inheritdoc/>
    public string Name => _version switch { 1 => "tailor", 2 => "tailor2", _ => "tailor3" };

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

        var scratch = CodecScratch.Rent();
        try
        {
            scratch.EnsurePoints(n);
            int bodyStart = position;
            VarInt.Write(destination, ref position, VarInt.ZigZag(timestamps[0]));
            if (n > 1)
            {
                var deltas = scratch.LongsA.AsSpan(0, n - 1);
                IntegerColumn.Differences(timestamps, deltas);

                var plan = IntegerColumn.Plan(deltas);
                IntegerColumn.Write(deltas, plan, destination, ref position);
            }

            PlanValues(values, scratch, out var values1);
            var layout = ChooseByEstimate(values1.Estimates);
            if (_version == 3)
            {
                return EncodeMeasured(values, values1, layout, destination, bodyStart, position, scratch);
            }

            WriteValues(values, values1, layout, scratch, destination, ref position);
            if (_useZstd && position - bodyStart >= _zstdMinBodyLength)
            {
                position = TryCompressBody(destination, bodyStart, position, scratch);
            }
        }
        finally
        {
            CodecScratch.Return(scratch);
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

        // Scratch memory is taken from the pool only by the blocks that need it: zstd bodies and quotients.
        CodecScratch? scratch = null;
        try
        {
            if (source[0] == BodyPlain)
            {
                if (!TryReadBody(source, ref position, timestamps[..n], values[..n], _quotients, ref scratch))
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

                scratch = CodecScratch.Rent();
                var body = scratch.EnsureBytes((int)bodyLength).AsSpan(0, (int)bodyLength);
                int produced = scratch.Decompress(source.Slice(position, (int)frameLength), body);
                int bodyPosition = 0;
                if (produced != (int)bodyLength || !TryReadBody(body, ref bodyPosition, timestamps[..n], values[..n], _quotients, ref scratch) || bodyPosition != body.Length)
                {
                    return OperationStatus.InvalidData;
                }

                position += (int)frameLength;
            }
        }
        finally
        {
            if (scratch is not null)
            {
                CodecScratch.Return(scratch);
            }
        }

        pointsDecoded = n;
        bytesConsumed = position;
        return OperationStatus.Done;
    }

    private int TryCompressBody(Span<byte> destination, int bodyStart, int bodyEnd, CodecScratch scratch)
    {
        int bodyLength = bodyEnd - bodyStart;
        int limit = (int)(bodyEnd * (1 - _zstdMinSavings));
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

    private static bool TryReadBody(ReadOnlySpan<byte> source, ref int position, Span<long> timestamps, Span<double> values, bool quotients, ref CodecScratch? scratch)
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

        return TryReadValues(source, ref position, values, quotients, ref scratch);
    }

    /// <summary>Plans every value mode the version knows: the estimated bytes of each, with what writing it needs.</summary>
    private void PlanValues(ReadOnlySpan<double> values, CodecScratch scratch, out ValuesPlan plan)
    {
        plan = default;
        int n = values.Length;
        plan.Estimates.Raw = 1 + (8L * n);
        plan.Estimates.Decimal = long.MaxValue;
        plan.Estimates.DecimalDelta = long.MaxValue;
        plan.Estimates.Bits = long.MaxValue;
        plan.Estimates.BitsDelta = long.MaxValue;
        plan.Estimates.Quotient = long.MaxValue;

        // Decimal: value = d / 10^e for all but a few values, which are kept verbatim.
        int exceptionCount = 0;
        int exponent = ChooseExponent(values, _options.MaxDecimalExponent);
        plan.Exponent = exponent;
        var digits = scratch.LongsA.AsSpan(0, n);
        var digitDeltas = scratch.LongsB.AsSpan(0, Math.Max(0, n - 1));
        var positions = scratch.Positions;
        bool decimals = false;
        if (exponent >= 0)
        {
            double scale = Pow10[exponent];
            int firstGood = -1;
            long last = 0;
            int i = 0;
            while (i < n)
            {
                // Eight values at a time with the scalar test's arithmetic lane by lane; a group with a value
                // that is not decimal is done again value by value, which keeps the exceptions in order.
                int end = Math.Min(n, i + 8);
                if (Vector512.IsHardwareAccelerated && end - i == 8 && ScaleEight(values, i, scale, digits) == 0)
                {
                    last = digits[i + 7];
                    firstGood = firstGood < 0 ? i : firstGood;
                    i = end;
                    continue;
                }

                for (; i < end; i++)
                {
                    if (TryScale(values[i], scale, out long d))
                    {
                        digits[i] = d;
                        last = d;
                        firstGood = firstGood < 0 ? i : firstGood;
                    }
                    else
                    {
                        // Not decimal at this exponent: kept verbatim; the slot repeats its neighbour to stay cheap.
                        digits[i] = last;
                        positions[exceptionCount++] = i;
                    }
                }
            }

            if (firstGood >= 0 && exceptionCount <= n / 2)
            {
                decimals = true;
                digits[..firstGood].Fill(digits[firstGood]);
                long exceptionBytes = VarInt.GetLength((ulong)exceptionCount);
                int previous = -1;
                for (int k = 0; k < exceptionCount; k++)
                {
                    exceptionBytes += VarInt.GetLength((ulong)(positions[k] - previous - 1)) + 8;
                    previous = positions[k];
                }

                plan.DecimalColumn = IntegerColumn.Plan(digits);
                plan.Estimates.Decimal = 2 + plan.DecimalColumn.MaxBytes + exceptionBytes;
                if (n > 1)
                {
                    IntegerColumn.Differences(digits, digitDeltas);

                    plan.DecimalDeltaColumn = IntegerColumn.Plan(digitDeltas);
                    plan.Estimates.DecimalDelta = 2 + VarInt.GetLength(VarInt.ZigZag(digits[0])) + plan.DecimalDeltaColumn.MaxBytes + exceptionBytes;
                }
            }
        }

        plan.ExceptionCount = exceptionCount;

        // Quotients (versions 2 and 3): value = (d / 10^e) / q for integers d and q, where decimals are not exact.
        if (_quotients && (!decimals || exceptionCount > 0))
        {
            plan.Estimates.Quotient = PlanQuotients(values, scratch, out plan.Quotient);
        }

        // Bits: order-preserving integer images of the bit patterns, for values that are neither of the
        // above exactly.
        var keys = scratch.LongsC.AsSpan(0, n);
        var keyDeltas = scratch.LongsD.AsSpan(0, Math.Max(0, n - 1));
        if (!decimals || exceptionCount > 0)
        {
            for (int i = 0; i < n; i++)
            {
                keys[i] = ToKey(BitConverter.DoubleToInt64Bits(values[i]));
            }

            plan.BitsColumn = IntegerColumn.Plan(keys);
            plan.Estimates.Bits = 1 + plan.BitsColumn.MaxBytes;
            if (n > 1)
            {
                IntegerColumn.Differences(keys, keyDeltas);

                plan.BitsDeltaColumn = IntegerColumn.Plan(keyDeltas);
                plan.Estimates.BitsDelta = 1 + VarInt.GetLength(VarInt.ZigZag(keys[0])) + plan.BitsDeltaColumn.MaxBytes;
            }
        }
    }

    /// <summary>
    /// The layout versions 1 and 2 choose: the smallest estimate, decimal before bits before raw on a tie,
    /// a sequence's deltas only when strictly smaller, a quotient layout only when strictly the smallest.
    /// </summary>
    private static ValuesLayout ChooseByEstimate(in ValuesEstimates e)
    {
        var decimalLayout = e.DecimalDelta < e.Decimal ? ValuesLayout.DecimalDelta : ValuesLayout.Decimal;
        long decimalBytes = Math.Min(e.Decimal, e.DecimalDelta);
        var bitsLayout = e.BitsDelta < e.Bits ? ValuesLayout.BitsDelta : ValuesLayout.Bits;
        long bitsBytes = Math.Min(e.Bits, e.BitsDelta);
        if (e.Quotient < decimalBytes && e.Quotient < bitsBytes && e.Quotient < e.Raw)
        {
            return ValuesLayout.Quotient;
        }

        if (decimalBytes <= bitsBytes && decimalBytes <= e.Raw)
        {
            return decimalLayout;
        }

        return bitsBytes <= e.Raw ? bitsLayout : ValuesLayout.Raw;
    }

    /// <summary>The layout with the smallest estimate other than <paramref name="best"/>, and its estimate (<see cref="long.MaxValue"/> when none).</summary>
    private static ValuesLayout RunnerUp(in ValuesEstimates e, ValuesLayout best, out long estimate)
    {
        var layout = best;
        estimate = long.MaxValue;
        for (var candidate = ValuesLayout.Raw; candidate <= ValuesLayout.Quotient; candidate++)
        {
            long bytes = e.Of(candidate);
            if (candidate != best && bytes < estimate)
            {
                layout = candidate;
                estimate = bytes;
            }
        }

        return layout;
    }

    private static void WriteValues(ReadOnlySpan<double> values, in ValuesPlan plan, ValuesLayout layout, CodecScratch scratch, Span<byte> destination, ref int position)
    {
        int n = values.Length;
        switch (layout)
        {
            case ValuesLayout.Quotient:
                WriteQuotients(values, plan.Quotient, scratch, destination, ref position);
                break;
            case ValuesLayout.Decimal:
            case ValuesLayout.DecimalDelta:
                bool decimalDelta = layout == ValuesLayout.DecimalDelta;
                destination[position++] = (byte)(ValuesDecimal | (decimalDelta ? ValuesDelta : 0));
                destination[position++] = (byte)plan.Exponent;
                WriteSequence(scratch.LongsA.AsSpan(0, n), scratch.LongsB.AsSpan(0, Math.Max(0, n - 1)), decimalDelta, decimalDelta ? plan.DecimalDeltaColumn : plan.DecimalColumn, destination, ref position);
                WriteExceptions(values, scratch.Positions.AsSpan(0, plan.ExceptionCount), destination, ref position);

                break;
            case ValuesLayout.Bits:
            case ValuesLayout.BitsDelta:
                bool bitsDelta = layout == ValuesLayout.BitsDelta;
                destination[position++] = (byte)(ValuesBits | (bitsDelta ? ValuesDelta : 0));
                WriteSequence(scratch.LongsC.AsSpan(0, n), scratch.LongsD.AsSpan(0, Math.Max(0, n - 1)), bitsDelta, bitsDelta ? plan.BitsDeltaColumn : plan.BitsColumn, destination, ref position);
                break;
            default:
                destination[position++] = ValuesRaw;
                for (int i = 0; i < n; i++)
                {
                    BinaryPrimitives.WriteInt64LittleEndian(destination[position..], BitConverter.DoubleToInt64Bits(values[i]));
                    position += 8;
                }

                break;
        }
    }

    /// <summary>Whether <paramref name="v"/> is exactly d / <paramref name="scale"/> for an integer d below 2^53 in magnitude, and d.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool TryScale(double v, double scale, out long d)
    {
        double scaled = v * scale;
        d = 0;
        if (!(Math.Abs(scaled) < ScaledLimit))
        {
            return false;
        }

        d = (long)Math.Round(scaled);
        return BitConverter.DoubleToInt64Bits(d / scale) == BitConverter.DoubleToInt64Bits(v);
    }

    /// <summary>
    /// Scales values <paramref name="at"/> .. + 7 to decimal integers at once, writing them to the
    /// same positions of <paramref name="digits"/>, and returns the lanes (bit i for value at + i) that are not exactly
    /// d / scale: the scalar test lane by lane (|v·scale| below 2^53, rounded half to even, converted
    /// to an integer and back, divided, compared bit for bit, so −0.0 is not decimal either way).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint ScaleEight(ReadOnlySpan<double> values, int at, double scale, Span<long> digits)
    {
        if (at < 0 || at > values.Length - 8 || at > digits.Length - 8)
        {
            throw new ArgumentOutOfRangeException(nameof(at), at, "Eight values and eight digits from here are needed.");
        }

        var v = Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(values), (nuint)at);
        var good = DecimalLanes(v, Vector512.Create(scale), out var d, out _);
        d.StoreUnsafe(ref MemoryMarshal.GetReference(digits), (nuint)at);
        return (uint)(~good.ExtractMostSignificantBits() & 0xFF);
    }

    /// <summary>
    /// <see cref="TryScale"/> on eight lanes: each value's digits (v·scale rounded half to even), the
    /// lanes whose v·scale is below 2^53 in magnitude (<paramref name="inside"/>), and, returned, the
    /// lanes among those that the digits give back bit for bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<long> DecimalLanes(Vector512<double> v, Vector512<double> factor, out Vector512<long> digits, out Vector512<long> inside)
    {
        var scaled = v * factor;
        digits = Vector512.ConvertToInt64(Vector512.Round(scaled));
        inside = Vector512.LessThan(Vector512.Abs(scaled), Vector512.Create(ScaledLimit)).AsInt64();
        return inside & Vector512.Equals((Vector512.ConvertToDouble(digits) / factor).AsInt64(), v.AsInt64());
    }

    /// <summary>
    /// Plans the quotient mode: picks the exponent from a sample, then finds each value's numerator and
    /// denominator (the previous denominator and its neighbours first, then continued fractions), and
    /// returns the estimated bytes, or <see cref="long.MaxValue"/> when the values are not quotients.
    /// </summary>
    private static long PlanQuotients(ReadOnlySpan<double> values, CodecScratch scratch, out QuotientPlan plan)
    {
        plan = default;
        int n = values.Length;
        int exponent = ChooseQuotientExponent(values, out long hint);
        if (exponent < 0)
        {
            return long.MaxValue;
        }

        double scale = Pow10[exponent];
        var numerators = scratch.LongsE.AsSpan(0, n);
        var denominators = scratch.LongsF.AsSpan(0, n);
        var positions = scratch.PositionsB;
        int exceptions = 0;
        int firstGood = -1;
        long lastNumerator = 0;
        for (int i = 0; i < n; i++)
        {
            long q = FindDenominator(values[i], scale, hint, out long x);
            if (q > 0)
            {
                numerators[i] = x;
                denominators[i] = q;
                lastNumerator = x;
                hint = q;
                if (firstGood < 0)
                {
                    firstGood = i;
                }

                continue;
            }

            numerators[i] = lastNumerator;
            denominators[i] = hint;
            positions[exceptions++] = i;
        }

        if (firstGood < 0 || exceptions > n / 4)
        {
            return long.MaxValue;
        }

        numerators[..firstGood].Fill(numerators[firstGood]);
        denominators[..firstGood].Fill(denominators[firstGood]);
        long bytes = 2 + VarInt.GetLength((ulong)exceptions);
        int previous = -1;
        for (int k = 0; k < exceptions; k++)
        {
            bytes += VarInt.GetLength((ulong)(positions[k] - previous - 1)) + 8;
            previous = positions[k];
        }

        bytes += PlanSequence(numerators, scratch.LongsG, out plan.NumeratorDelta, out plan.Numerators);
        bytes += PlanSequence(denominators, scratch.LongsG, out plan.DenominatorDelta, out plan.Denominators);
        plan.Exponent = exponent;
        plan.ExceptionCount = exceptions;
        return bytes;
    }

    /// <summary>Plans a sequence both as is and as deltas (computed in <paramref name="deltaScratch"/>); returns the cheaper estimate.</summary>
    private static long PlanSequence(ReadOnlySpan<long> values, long[] deltaScratch, out bool delta, out ColumnPlan plan)
    {
        int n = values.Length;
        plan = IntegerColumn.Plan(values);
        delta = false;
        long bytes = plan.MaxBytes;
        if (n > 1)
        {
            var deltaPlan = IntegerColumn.Plan(Deltas(values, deltaScratch));
            long deltaBytes = VarInt.GetLength(VarInt.ZigZag(values[0])) + deltaPlan.MaxBytes;
            if (deltaBytes < bytes)
            {
                delta = true;
                plan = deltaPlan;
                bytes = deltaBytes;
            }
        }

        return bytes;
    }

    /// <summary>The differences of consecutive values, written to <paramref name="destination"/> (one fewer than the values).</summary>
    private static ReadOnlySpan<long> Deltas(ReadOnlySpan<long> values, long[] destination)
    {
        var deltas = destination.AsSpan(0, Math.Max(0, values.Length - 1));
        IntegerColumn.Differences(values, deltas);

        return deltas;
    }

    private static void WriteQuotients(ReadOnlySpan<double> values, in QuotientPlan plan, CodecScratch scratch, Span<byte> destination, ref int position)
    {
        int n = values.Length;
        destination[position++] = (byte)(ValuesQuotient | (plan.NumeratorDelta ? ValuesDelta : 0) | (plan.DenominatorDelta ? DenominatorDelta : 0));
        destination[position++] = (byte)plan.Exponent;
        WriteSequence(scratch.LongsE.AsSpan(0, n), Deltas(scratch.LongsE.AsSpan(0, n), scratch.LongsG), plan.NumeratorDelta, plan.Numerators, destination, ref position);
        WriteSequence(scratch.LongsF.AsSpan(0, n), Deltas(scratch.LongsF.AsSpan(0, n), scratch.LongsG), plan.DenominatorDelta, plan.Denominators, destination, ref position);
        WriteExceptions(values, scratch.PositionsB.AsSpan(0, plan.ExceptionCount), destination, ref position);
    }

    /// <summary>The exceptions of a decimal or quotient column: their count, then each one's gap from the previous one and its raw bits.</summary>
    private static void WriteExceptions(ReadOnlySpan<double> values, ReadOnlySpan<int> positions, Span<byte> destination, ref int position)
    {
        VarInt.Write(destination, ref position, (ulong)positions.Length);
        int previous = -1;
        foreach (int at in positions)
        {
            VarInt.Write(destination, ref position, (ulong)(at - previous - 1));
            BinaryPrimitives.WriteInt64LittleEndian(destination[position..], BitConverter.DoubleToInt64Bits(values[at]));
            position += 8;
            previous = at;
        }
    }

    /// <summary>
    /// The exponent e (0 .. 6) for which a sample of the values is best written as (d / 10^e) / q: the
    /// most values found, then the smallest denominators; -1 when under three quarters of the sample
    /// are quotients at any exponent. <paramref name="hint"/> is the first denominator found.
    /// </summary>
    private static int ChooseQuotientExponent(ReadOnlySpan<double> values, out long hint)
    {
        int n = values.Length;
        int count = Math.Min(QuotientSampleSize, n);
        int best = -1;
        int bestFound = 0;
        double bestCost = double.MaxValue;
        hint = 0;
        for (int e = 0; e <= MaxQuotientExponent; e++)
        {
            double scale = Pow10[e];
            int found = 0;
            double cost = 0;
            long previous = 0;
            long first = 0;
            var stride = new SampleStride(n, count);
            for (int j = 0; j < count && found + (count - j) >= bestFound && (j - found) * 4 <= count; j++)
            {
                long q = FindDenominator(values[stride.Next()], scale, previous, out _);
                if (q > 0)
                {
                    found++;
                    cost += 64 - BitOperations.LeadingZeroCount((ulong)q);
                    previous = q;
                    if (first == 0)
                    {
                        first = q;
                    }
                }
            }

            if (found * 4 >= count * 3 && (found > bestFound || (found == bestFound && cost < bestCost)))
            {
                best = e;
                bestFound = found;
                bestCost = cost;
                hint = first;
            }
        }

        return best;
    }

    /// <summary>
    /// A denominator q ≥ 1 with a numerator <paramref name="numerator"/> such that ((double)numerator /
    /// <paramref name="scale"/>) / q gives back <paramref name="value"/> bit for bit, or 0 when none is
    /// found. Tries <paramref name="hint"/> and its neighbours first, then the denominators of the
    /// continued fraction of value·scale, each also as the multiple nearest the hint, so that a series
    /// keeps one denominator where it can.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long FindDenominator(double value, double scale, long hint, out long numerator)
    {
        if (hint > 0)
        {
            long near = NearestInWindow(value, scale, hint, out numerator);
            if (near > 0)
            {
                return near;
            }
        }

        double y = Math.Abs(value * scale);
        if (!(y < ScaledLimit))
        {
            numerator = 0;
            return 0;
        }

        long k0 = 1;
        long k1 = 0;
        for (int step = 0; step < 48; step++)
        {
            double a = Math.Floor(y);
            if (a >= MaxDenominator)
            {
                break;
            }

            long k = ((long)a * k1) + k0;
            if (k > MaxDenominator || k <= 0)
            {
                break;
            }

            // At the value's own denominator the continued fraction ends: what is left of y is rounding
            // noise. Only then is the candidate worth the test.
            double fraction = y - a;
            if (fraction < ConvergedFraction && TryDenominator(value, scale, k, out numerator))
            {
                if (hint > k)
                {
                    long multiple = (hint + (k / 2)) / k * k;
                    if (multiple != k && TryDenominator(value, scale, multiple, out long x))
                    {
                        numerator = x;
                        return multiple;
                    }
                }

                return k;
            }

            k0 = k1;
            k1 = k;
            if (!(fraction > 0))
            {
                break;
            }

            y = 1 / fraction;
        }

        numerator = 0;
        return 0;
    }

    /// <summary>
    /// The denominator nearest <paramref name="hint"/> among hint − 32 .. hint + 31 (ties to the lower)
    /// that passes <see cref="TryDenominator"/>, or 0. The cheap near-integer test runs on four
    /// candidates at a time, with the same arithmetic as the scalar test, so the answer does not depend
    /// on the hardware.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long NearestInWindow(double value, double scale, long hint, out long numerator)
    {
        numerator = 0;
        if (hint > MaxDenominator)
        {
            return 0;
        }

        // The eight nearest candidates first: a hit among them is the nearest of the whole window.
        double scaledValue = value * scale;
        double start = hint - DenominatorWindow;
        const ulong Inner = 0xFFul << (DenominatorWindow - 4);
        long q = Nearest(value, scale, hint, NearIntegerMask(scaledValue, start + DenominatorWindow - 4, 2) << (DenominatorWindow - 4), out numerator);
        return q > 0 ? q : Nearest(value, scale, hint, NearIntegerMask(scaledValue, start, 2 * DenominatorWindow / 4) & ~Inner, out numerator);
    }

    /// <summary>Of the candidates hint − 32 + i for the set bits i of <paramref name="mask"/>, the nearest the hint (the lower on a tie) that passes <see cref="TryDenominator"/>, or 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Nearest(double value, double scale, long hint, ulong mask, out long numerator)
    {
        numerator = 0;
        while (mask != 0)
        {
            int offset = NearestOffset(mask);
            long q = hint + offset;
            if (TryDenominator(value, scale, q, out numerator))
            {
                return q;
            }

            mask &= ~(1ul << (DenominatorWindow + offset));
        }

        return 0;
    }

    /// <summary>
    /// Of the set bits i of a non-zero <paramref name="mask"/>, the offset i − 32 nearest zero, the
    /// negative one on a tie.
    /// </summary>
    /// <remarks>
    /// Which side of the hint the nearest candidate lies on is a coin toss from value to value, so the
    /// choice is made without branches: below the hint (bits 0 .. 31) the nearest is the highest set bit,
    /// at a distance of its leading-zero count plus one within the low half (33 when none); at or above
    /// it (bits 32 .. 63) the lowest set bit, at its trailing-zero count within the high half (32 when none).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int NearestOffset(ulong mask)
    {
        // Bit DenominatorWindow is the hint itself.
        int below = BitOperations.LeadingZeroCount((uint)mask) + 1;
        int above = BitOperations.TrailingZeroCount((uint)(mask >> DenominatorWindow));
        return below <= above ? -below : above;
    }

    /// <summary>
    /// Bit i is set when scaledValue·(start + i) is within the near-integer tolerance of an integer below
    /// 2^53 and start + i ≥ 1, for i below 4·<paramref name="vectors"/>: the same arithmetic as
    /// <see cref="TryDenominator"/>'s first test. Eight candidates at a time where the processor has
    /// 512-bit vectors (the operations are the same lane by lane, so the bits are too).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong NearIntegerMask(double scaledValue, double start, int vectors)
    {
        return Vector512.IsHardwareAccelerated && (vectors & 1) == 0
            ? NearIntegerMask512(scaledValue, start, vectors)
            : NearIntegerMask256(scaledValue, start, vectors);
    }

    /// <summary><see cref="NearIntegerMask"/> on 256-bit vectors, four candidates at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong NearIntegerMask256(double scaledValue, double start, int vectors)
    {
        var value = Vector256.Create(scaledValue);
        var tolerance = Vector256.Create(NearIntegerTolerance);
        var limit = Vector256.Create(ScaledLimit);
        var one = Vector256.Create(1.0);
        var step = Vector256.Create(0.0, 1, 2, 3);
        ulong mask = 0;
        for (int j = 0; j < vectors; j++)
        {
            var q = Vector256.Create(start + (4 * j)) + step;
            var scaled = value * q;
            var error = Vector256.Abs(scaled - Vector256.Round(scaled));
            var near = Vector256.LessThanOrEqual(error, Vector256.Abs(scaled) * tolerance)
                & Vector256.LessThan(Vector256.Abs(scaled), limit)
                & Vector256.GreaterThanOrEqual(q, one);
            mask |= (ulong)near.ExtractMostSignificantBits() << (4 * j);
        }

        return mask;
    }

    /// <summary><see cref="NearIntegerMask"/> on 512-bit vectors, eight candidates at a time (<paramref name="vectors"/> counts four, and is even).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong NearIntegerMask512(double scaledValue, double start, int vectors)
    {
        var value = Vector512.Create(scaledValue);
        var tolerance = Vector512.Create(NearIntegerTolerance);
        var limit = Vector512.Create(ScaledLimit);
        var one = Vector512.Create(1.0);
        var step = Vector512.Create(0.0, 1, 2, 3, 4, 5, 6, 7);
        ulong mask = 0;
        for (int j = 0; j < vectors / 2; j++)
        {
            var q = Vector512.Create(start + (8 * j)) + step;
            var scaled = value * q;
            var error = Vector512.Abs(scaled - Vector512.Round(scaled));
            var near = Vector512.LessThanOrEqual(error, Vector512.Abs(scaled) * tolerance)
                & Vector512.LessThan(Vector512.Abs(scaled), limit)
                & Vector512.GreaterThanOrEqual(q, one);
            mask |= near.ExtractMostSignificantBits() << (8 * j);
        }

        return mask;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryDenominator(double value, double scale, long q, out long numerator)
    {
        double scaled = value * scale * q;
        if (!(Math.Abs(scaled) < ScaledLimit))
        {
            numerator = 0;
            return false;
        }

        double rounded = Math.Round(scaled);
        numerator = (long)rounded;

        // The right denominator makes value·scale·q an integer but for a few ulps of rounding; the cheap
        // test skips the two divisions of the exact check for nearly every wrong one.
        return Math.Abs(scaled - rounded) <= Math.Abs(scaled) * NearIntegerTolerance
            && BitConverter.DoubleToInt64Bits(numerator / scale / q) == BitConverter.DoubleToInt64Bits(value);
    }

    private struct QuotientPlan
    {
        public int Exponent;
        public int ExceptionCount;
        public bool NumeratorDelta;
        public bool DenominatorDelta;
        public ColumnPlan Numerators;
        public ColumnPlan Denominators;
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

    private static bool TryReadValues(ReadOnlySpan<byte> source, ref int position, Span<double> values, bool quotients, ref CodecScratch? scratch)
    {
        int n = values.Length;
        if ((uint)position >= (uint)source.Length)
        {
            return false;
        }

        int mode = source[position++];
        int kind = mode & 3;
        bool delta = (mode & ValuesDelta) != 0;
        if (kind == ValuesQuotient)
        {
            return quotients && (mode & ~15) == 0 && TryReadQuotients(source, ref position, values, delta, (mode & DenominatorDelta) != 0, ref scratch);
        }

        if ((mode & ~7) != 0 || (kind == ValuesRaw && delta))
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

        return TryReadExceptions(source, ref position, values);
    }

    private static bool TryReadQuotients(ReadOnlySpan<byte> source, ref int position, Span<double> values, bool numeratorDelta, bool denominatorDelta, ref CodecScratch? scratch)
    {
        int n = values.Length;
        if ((uint)position >= (uint)source.Length)
        {
            return false;
        }

        int exponent = source[position++];
        if (exponent > MaxDecimalExponent)
        {
            return false;
        }

        var numerators = MemoryMarshal.Cast<double, long>(values);
        scratch ??= CodecScratch.Rent();
        var denominators = scratch.EnsureDenominators(n).AsSpan(0, n);
        if (!TryReadSequence(source, ref position, numerators, numeratorDelta) || !TryReadSequence(source, ref position, denominators, denominatorDelta))
        {
            return false;
        }

        // Four at a time where vectors are fast: the same conversions and divisions, each correctly
        // rounded, so the result is the same bits either way.
        double scale = Pow10[exponent];
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var scales = Vector256.Create(scale);
            for (; i <= n - 4; i += 4)
            {
                var x = Vector256.ConvertToDouble(Vector256.Create<long>(numerators.Slice(i, 4)));
                var q = Vector256.ConvertToDouble(Vector256.Create<long>(denominators.Slice(i, 4)));
                (x / scales / q).CopyTo(values.Slice(i, 4));
            }
        }

        for (; i < n; i++)
        {
            values[i] = numerators[i] / scale / denominators[i];
        }

        return TryReadExceptions(source, ref position, values);
    }

    private static bool TryReadExceptions(ReadOnlySpan<byte> source, ref int position, Span<double> values)
    {
        int n = values.Length;
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
    internal static int ChooseExponent(ReadOnlySpan<double> values, int limit) => ChooseExponent(values, limit, Vector512.IsHardwareAccelerated);

    /// <summary><see cref="ChooseExponent(ReadOnlySpan{double}, int)"/>, the sample's values eight at a time or one at a time.</summary>
    internal static int ChooseExponent(ReadOnlySpan<double> values, int limit, bool eightAtATime)
    {
        int n = values.Length;
        int count = Math.Min(SampleSize, n);
        int failures = 0;
        int exponent = 0;
        var stride = new SampleStride(n, count);
        if (eightAtATime)
        {
            // The sample side by side, the rest of the last eight zeros (decimal at 10^0, so they change nothing).
            Span<double> sample = stackalloc double[SampleSize];
            sample.Clear();
            for (int j = 0; j < count; j++)
            {
                sample[j] = values[stride.Next()];
            }

            return ChooseExponentEight(sample[..((count + 7) & ~7)], count, limit);
        }

        for (int j = 0; j < count; j++)
        {
            int e = MinimalExponent(values[stride.Next()], limit);
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

    /// <summary>
    /// <see cref="ChooseExponent(ReadOnlySpan{double}, int)"/> on a gathered sample (its first <paramref name="count"/> values, then
    /// zeros to a multiple of eight), every value's minimal exponent found eight values at a time:
    /// exponent after exponent, each value settles at the first that gives it back exactly (the scalar
    /// test, lane by lane) or fails once it scales past 2^53.
    /// </summary>
    private static int ChooseExponentEight(ReadOnlySpan<double> sample, int count, int limit)
    {
        int groups = sample.Length / 8;
        uint open = groups == 4 ? uint.MaxValue : (1u << (8 * groups)) - 1;
        uint failed = 0;
        int exponent = 0;
        ref double origin = ref MemoryMarshal.GetReference(sample);
        for (int e = 0; e <= limit && open != 0; e++)
        {
            var factor = Vector512.Create(Pow10[e]);
            uint good = 0;
            uint outside = 0;
            for (int g = 0; g < groups; g++)
            {
                var exact = DecimalLanes(Vector512.LoadUnsafe(ref origin, (nuint)(8 * g)), factor, out _, out var inside);
                good |= (uint)exact.ExtractMostSignificantBits() << (8 * g);
                outside |= (uint)(~inside.ExtractMostSignificantBits() & 0xFF) << (8 * g);
            }

            if ((good & open) != 0)
            {
                exponent = e;
            }

            failed |= outside & ~good & open;
            open &= ~(good | outside);
        }

        // Values still open at the last exponent are not decimal either.
        failed |= open;
        int failures = BitOperations.PopCount(failed);
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
