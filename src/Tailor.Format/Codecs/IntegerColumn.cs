using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Tailor.Format.Encoding;

namespace Tailor.Format.Codecs;

/// <summary>How <see cref="IntegerColumn"/> will lay out one sequence of int64 values.</summary>
internal struct ColumnPlan
{
    /// <summary>The reference subtracted from every value (the minimum, or a sampled median with zigzag).</summary>
    public long Reference;

    /// <summary>The common divisor of every value's difference from the reference (1 when none).</summary>
    public ulong Divisor;

    /// <summary>Dividing by <see cref="Divisor"/> without a division: shift out its factors of two, then multiply by this.</summary>
    public ExactDivisor Exact;

    /// <summary>The packed width in bits, 0 .. 64.</summary>
    public int Width;

    /// <summary>Whether differences are signed and zigzag-mapped (reference = median) or unsigned (reference = minimum).</summary>
    public bool ZigZag;

    /// <summary>The exact number of values whose mapped form needs more than <see cref="Width"/> bits.</summary>
    public int ExceptionCount;

    /// <summary>An upper bound of the encoded length in bytes (exact except for exception position varints).</summary>
    public int MaxBytes;
}

/// <summary>
/// Division by a fixed divisor of numbers known to be its multiples, as a shift and a multiplication:
/// a 64-bit division costs tens of cycles, and the encoder divides every value of a column.
/// </summary>
/// <remarks>
/// For d = 2^k * o with o odd, x / d = (x >> k) * o^-1 mod 2^64 whenever d divides x, signed or
/// unsigned (two's complement). The inverse comes from Newton's iteration, each step doubling the
/// correct low bits (an odd o is its own inverse mod 8).
/// </remarks>
internal readonly struct ExactDivisor
{
    private readonly int _shift;
    private readonly ulong _inverse;

    public ExactDivisor(ulong divisor)
    {
        _shift = BitOperations.TrailingZeroCount(divisor);
        ulong odd = divisor >> _shift;
        ulong inverse = odd;
        for (int i = 0; i < 5; i++)
        {
            inverse = unchecked(inverse * (2 - (odd * inverse)));
        }

        _inverse = inverse;
    }

    /// <summary>x / divisor for an x the divisor divides.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Divide(ulong x) => unchecked((x >> _shift) * _inverse);

    /// <summary>x / divisor for a signed x the divisor divides.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Divide(long x) => unchecked((long)((ulong)(x >> _shift) * _inverse));

    /// <summary><see cref="Divide(ulong)"/> lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<ulong> Divide(Vector512<ulong> x) => Vector512.ShiftRightLogical(x, _shift) * Vector512.Create(_inverse);

    /// <summary><see cref="Divide(long)"/> lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<long> Divide(Vector512<long> x) => (Vector512.ShiftRightArithmetic(x, _shift).AsUInt64() * Vector512.Create(_inverse)).AsInt64();

    /// <summary><see cref="VarInt.ZigZag"/> lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> ZigZag(Vector512<long> x) => (Vector512.ShiftLeft(x, 1) ^ Vector512.ShiftRightArithmetic(x, 63)).AsUInt64();
}

/// <summary>
/// The integer column of the <c>tailor</c> codec: frame of reference with a per-column bit width,
/// an optional common divisor, and patched exceptions for the few values wider than the width
/// (PFOR-style), so one counter reset or one gap does not widen every value. Layout in <c>docs/codecs.md</c>.
/// </summary>
internal static class IntegerColumn
{
    private const byte FlagDivisor = 1;
    private const byte FlagExceptions = 2;
    private const int SampleSize = 15;

    /// <summary>
    /// Whether this processor counts widths eight values at a time (<see cref="Plan(ReadOnlySpan{long}, bool)"/>):
    /// it needs AVX-512 with its leading-zero count (CD), byte compares (BW) and 64-bit multiplies (DQ).
    /// </summary>
    public static bool VectorWidthsSupported => Avx512CD.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported;

    /// <summary>Chooses the cheapest layout for <paramref name="values"/> (at least one value).</summary>
    public static ColumnPlan Plan(ReadOnlySpan<long> values) => Plan(values, VectorWidthsSupported);

    /// <summary>
    /// Chooses the cheapest layout for <paramref name="values"/> (at least one value), counting the
    /// widths eight values at a time when <paramref name="vectorWidths"/> is set (only where
    /// <see cref="VectorWidthsSupported"/>) or value by value otherwise; both count the same, so the plan
    /// is the same.
    /// </summary>
    [SkipLocalsInit] // the width buffer is written in full before it is read
    internal static ColumnPlan Plan(ReadOnlySpan<long> values, bool vectorWidths)
    {
        if (vectorWidths && !VectorWidthsSupported)
        {
            throw new PlatformNotSupportedException("Counting widths eight at a time needs AVX-512 (CD, BW and DQ).");
        }

        int m = values.Length;
        var (min, max) = MinMax(values);

        if (min == max)
        {
            return new ColumnPlan { Reference = min, Divisor = 1, MaxBytes = 2 + VarInt.GetLength(VarInt.ZigZag(min)) };
        }

        ulong range = unchecked((ulong)(max - min));
        ulong divisor = 1;
        if (range < 1UL << 62)
        {
            ulong g = 0;
            foreach (long x in values)
            {
                ulong d = (ulong)(x - min);
                if (d != 0 && d != g)
                {
                    g = g == 0 ? d : Gcd(g, d);
                    if (g == 1)
                    {
                        break;
                    }
                }
            }

            divisor = g;
        }

        var exact = divisor > 1 ? new ExactDivisor(divisor) : default;
        var best = new ColumnPlan { Reference = min, Divisor = divisor, Exact = exact, ZigZag = false };
        var candidate = new ColumnPlan { Reference = SampleMedian(values), Divisor = divisor, Exact = exact, ZigZag = true };
        if (vectorWidths)
        {
            byte[]? rented = null;
            Span<byte> zeros = m <= StackWidths ? stackalloc byte[m] : (rented = ArrayPool<byte>.Shared.Rent(m));
            try
            {
                ChooseWidth(new WidthCounts(values, best, zeros[..m]), m, ref best);
                if (candidate.Reference != min)
                {
                    ChooseWidth(new WidthCounts(values, candidate, zeros[..m]), m, ref candidate);
                }
            }
            finally
            {
                if (rented is not null)
                {
                    ArrayPool<byte>.Shared.Return(rented);
                }
            }
        }
        else
        {
            Span<int> histogram = stackalloc int[65]; // filled in full by WidthHistogram
            Span<int> partial = stackalloc int[4 * HistogramStride]; // cleared by WidthHistogram

            // Candidate A: unsigned offsets from the minimum.
            WidthHistogram(values, best, histogram, partial);
            ChooseWidth(new WidthCounts(histogram), m, ref best);

            // Candidate B: zigzag offsets from a sampled median, which keeps rare low outliers (a counter
            // reset, a clock step back) out of the width.
            if (candidate.Reference != min)
            {
                WidthHistogram(values, candidate, histogram, partial);
                ChooseWidth(new WidthCounts(histogram), m, ref candidate);
            }
        }

        return candidate.Reference != min && candidate.MaxBytes < best.MaxBytes ? candidate : best;
    }

    /// <summary>
    /// The differences of consecutive values (wrapping), <c>deltas[i] = values[i + 1] - values[i]</c>,
    /// for the first <c>deltas.Length</c> of them (at most one fewer than the values, or none); a vector at a time.
    /// </summary>
    public static void Differences(ReadOnlySpan<long> values, Span<long> deltas)
    {
        int count = deltas.Length;
        if (count > 0 && count > values.Length - 1)
        {
            throw new ArgumentException("There is one difference fewer than values.", nameof(deltas));
        }

        ref long x = ref MemoryMarshal.GetReference(values);
        ref long d = ref MemoryMarshal.GetReference(deltas);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 8 <= count; i += 8)
            {
                (Vector512.LoadUnsafe(ref x, (nuint)(i + 1)) - Vector512.LoadUnsafe(ref x, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 4 <= count; i += 4)
            {
                (Vector256.LoadUnsafe(ref x, (nuint)(i + 1)) - Vector256.LoadUnsafe(ref x, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
            }
        }

        for (; i < count; i++)
        {
            Unsafe.Add(ref d, i) = unchecked(Unsafe.Add(ref x, i + 1) - Unsafe.Add(ref x, i));
        }
    }

    /// <summary>Writes <paramref name="values"/> as planned. The caller guarantees <see cref="ColumnPlan.MaxBytes"/> of room.</summary>
    public static void Write(ReadOnlySpan<long> values, in ColumnPlan plan, Span<byte> destination, ref int position)
    {
        int width = plan.Width;
        destination[position] = (byte)(width | (plan.ZigZag ? 0x80 : 0));
        destination[position + 1] = (byte)((plan.Divisor > 1 ? FlagDivisor : 0) | (plan.ExceptionCount > 0 ? FlagExceptions : 0));
        position += 2;
        VarInt.Write(destination, ref position, VarInt.ZigZag(plan.Reference));
        if (plan.Divisor > 1)
        {
            VarInt.Write(destination, ref position, plan.Divisor);
        }

        if (plan.ExceptionCount > 0)
        {
            VarInt.Write(destination, ref position, (ulong)plan.ExceptionCount);
        }

        if (width == 0 && plan.ExceptionCount == 0)
        {
            return;
        }

        var exact = plan.Exact;
        long reference = plan.Reference;
        position = (plan.ZigZag, plan.Divisor > 1) switch
        {
            (false, false) => WriteMapped(values, new Offset(reference), width, plan.ExceptionCount, destination, position),
            (false, true) => WriteMapped(values, new OffsetDivided(reference, exact), width, plan.ExceptionCount, destination, position),
            (true, false) => WriteMapped(values, new ZigZagOffset(reference), width, plan.ExceptionCount, destination, position),
            (true, true) => WriteMapped(values, new ZigZagOffsetDivided(reference, exact), width, plan.ExceptionCount, destination, position),
        };
    }

    /// <summary>The packed values, then the exceptions' gaps and high bits; returns the position after them.</summary>
    private static int WriteMapped<TMap>(ReadOnlySpan<long> values, TMap map, int width, int exceptionCount, Span<byte> destination, int position)
        where TMap : struct, IColumnMap
    {
        position = Pack(values, map, width, destination, position);
        if (exceptionCount > 0)
        {
            int previous = -1;
            for (int i = 0; i < values.Length; i++)
            {
                ulong u = map.Map(values[i]);
                if ((u >> width) != 0)
                {
                    VarInt.Write(destination, ref position, (ulong)(i - previous - 1));
                    VarInt.Write(destination, ref position, u >> width);
                    previous = i;
                }
            }
        }

        return position;
    }

    /// <summary>
    /// Packs the low <paramref name="width"/> bits of every mapped value, LSB first, from byte
    /// <paramref name="position"/>; returns the position after the last byte used. One loop per mapping,
    /// with the word being filled kept in registers.
    /// </summary>
    private static int Pack<TMap>(ReadOnlySpan<long> values, TMap map, int width, Span<byte> destination, int position)
        where TMap : struct, IColumnMap
    {
        if (width == 0)
        {
            return position;
        }

        ulong mask = width == 64 ? ulong.MaxValue : (1UL << width) - 1;
        ulong word = 0;
        int used = 0;
        ref long x = ref MemoryMarshal.GetReference(values);
        for (int i = 0; i < values.Length; i++)
        {
            ulong value = map.Map(Unsafe.Add(ref x, i)) & mask;
            word |= value << used;
            used += width;
            if (used < 64)
            {
                continue;
            }

            BinaryPrimitives.WriteUInt64LittleEndian(destination[position..], word);
            position += 8;
            used -= 64;
            word = used == 0 ? 0 : value >> (width - used);
        }

        for (int k = 0; k < used; k += 8)
        {
            destination[position++] = (byte)(word >> k);
        }

        return position;
    }

    /// <summary>
    /// Reads a column of <c>output.Length</c> values written by <see cref="Write"/>. False on any
    /// inconsistency; never reads outside <paramref name="source"/>.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> source, ref int position, Span<long> output)
    {
        int m = output.Length;
        int pos = position;
        if ((uint)pos > (uint)source.Length - 2 || source.Length < 2)
        {
            return false;
        }

        int header = source[pos];
        int flags = source[pos + 1];
        pos += 2;
        int width = header & 0x7F;
        bool zigzag = (header & 0x80) != 0;
        if (width > 64 || (flags & ~(FlagDivisor | FlagExceptions)) != 0)
        {
            return false;
        }

        if (!VarInt.TryRead(source, ref pos, out ulong rawReference))
        {
            return false;
        }

        long reference = VarInt.UnZigZag(rawReference);
        ulong divisor = 1;
        if ((flags & FlagDivisor) != 0 && (!VarInt.TryRead(source, ref pos, out divisor) || divisor < 2))
        {
            return false;
        }

        ulong exceptionCount = 0;
        if ((flags & FlagExceptions) != 0 && (!VarInt.TryRead(source, ref pos, out exceptionCount) || exceptionCount == 0 || exceptionCount > (ulong)m || width == 64))
        {
            return false;
        }

        var u = MemoryMarshal.Cast<long, ulong>(output);
        long packedBytes = (((long)m * width) + 7) >> 3;
        if (packedBytes > source.Length - pos)
        {
            return false;
        }

        Unpack(source, pos, width, u);
        pos += (int)packedBytes;

        int previous = -1;
        for (ulong k = 0; k < exceptionCount; k++)
        {
            if (!VarInt.TryRead(source, ref pos, out ulong gap) || gap >= (ulong)(m - previous - 1))
            {
                return false;
            }

            int at = previous + 1 + (int)gap;
            if (!VarInt.TryRead(source, ref pos, out ulong high))
            {
                return false;
            }

            u[at] |= high << width;
            previous = at;
        }

        if (zigzag)
        {
            if (divisor == 1)
            {
                for (int i = 0; i < u.Length; i++)
                {
                    output[i] = unchecked(reference + VarInt.UnZigZag(u[i]));
                }
            }
            else
            {
                long g = (long)divisor;
                for (int i = 0; i < u.Length; i++)
                {
                    output[i] = unchecked(reference + (g * VarInt.UnZigZag(u[i])));
                }
            }
        }
        else if (divisor == 1)
        {
            for (int i = 0; i < u.Length; i++)
            {
                output[i] = unchecked(reference + (long)u[i]);
            }
        }
        else
        {
            long g = (long)divisor;
            for (int i = 0; i < u.Length; i++)
            {
                output[i] = unchecked(reference + (g * (long)u[i]));
            }
        }

        position = pos;
        return true;
    }

    /// <summary>Picks the width minimising packed bytes plus exception bytes; fills Width, ExceptionCount and MaxBytes.</summary>
    /// <remarks>
    /// An exception of b bits at width w costs gapBytes + ceil((b - w) / 7) bytes. With S(w) the count
    /// of values wider than w, the sum of the ceilings over them is T(w) = S(w) + T(w + 7) (each value
    /// counts once for every 7 bits it is wider by), so every width costs O(1) instead of a pass over
    /// the histogram.
    /// </remarks>
    private static void ChooseWidth(WidthCounts counts, int m, ref ColumnPlan plan)
    {
        int top = counts.Top;

        // An exception's position gap is at most m, so VarInt.GetLength(m) bounds its varint.
        int gapBytes = VarInt.GetLength((ulong)m);
        long bestBytes = (((long)m * top) + 7) >> 3;
        int bestWidth = top;
        int bestExceptions = 0;
        int above = 0;

        // T(w + 1) .. T(w + 7) in t0 .. t6 (zero at and past top), shifted along one place per width.
        long t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5 = 0, t6 = 0;
        for (int w = top - 1; w >= 0; w--)
        {
            // Every value wider than w is an exception costing at least gapBytes + 1; that count only
            // grows as w shrinks, so once it alone reaches the best total no narrower width can win.
            above += counts.Count(w + 1);
            if ((long)above * (gapBytes + 1) >= bestBytes)
            {
                break;
            }

            long ceilings = above + t6;
            (t6, t5, t4, t3, t2, t1, t0) = (t5, t4, t3, t2, t1, t0, ceilings);
            long exceptionBytes = ((long)above * gapBytes) + ceilings;
            long bytes = ((((long)m * w) + 7) >> 3) + exceptionBytes + VarInt.GetLength((ulong)above);
            if (bytes < bestBytes)
            {
                bestBytes = bytes;
                bestWidth = w;
                bestExceptions = above;
            }
        }

        plan.Width = bestWidth;
        plan.ExceptionCount = bestExceptions;
        plan.MaxBytes = (int)(2 + VarInt.GetLength(VarInt.ZigZag(plan.Reference)) + (plan.Divisor > 1 ? VarInt.GetLength(plan.Divisor) : 0) + bestBytes);
    }

    private const int HistogramStride = 68;

    // Columns up to this many values count their widths in a buffer on the stack; longer ones rent one.
    private const int StackWidths = 2048;

    /// <summary>
    /// How many of a candidate's mapped values have each bit width: a histogram of the 65 widths (value
    /// by value), or each value's leading-zero count as a byte with the set of counts present (eight
    /// values at a time), where a width's count is one pass of byte compares over the column, done only
    /// for the widths <see cref="ChooseWidth"/> asks for and only when some value has that width.
    /// </summary>
    private readonly ref struct WidthCounts
    {
        private readonly ReadOnlySpan<int> _histogram;
        private readonly ReadOnlySpan<byte> _zeros;
        private readonly ulong _present;

        /// <summary>Counts from a histogram of 65 bins.</summary>
        public WidthCounts(ReadOnlySpan<int> histogram)
        {
            _histogram = histogram;
            int top = 64;
            while (top > 0 && histogram[top] == 0)
            {
                top--;
            }

            Top = top;
        }

        /// <summary>Counts the candidate's widths eight values at a time into <paramref name="zeros"/> (one byte per value).</summary>
        public WidthCounts(ReadOnlySpan<long> values, in ColumnPlan plan, Span<byte> zeros)
        {
            var exact = plan.Exact;
            long reference = plan.Reference;
            _present = (plan.ZigZag, plan.Divisor > 1) switch
            {
                (false, false) => LeadingZeros(values, new Offset(reference), zeros),
                (false, true) => LeadingZeros(values, new OffsetDivided(reference, exact), zeros),
                (true, false) => LeadingZeros(values, new ZigZagOffset(reference), zeros),
                (true, true) => LeadingZeros(values, new ZigZagOffsetDivided(reference, exact), zeros),
            };
            _zeros = zeros;

            // Bit z of the set stands for width 64 - z (a zero value, width 0, sets none).
            Top = _present == 0 ? 0 : 64 - BitOperations.TrailingZeroCount(_present);
        }

        /// <summary>The widest width any value has (0 when every value maps to zero).</summary>
        public int Top { get; }

        /// <summary>How many values have exactly <paramref name="width"/> bits (1 .. 64).</summary>
        public int Count(int width)
        {
            if (!_histogram.IsEmpty)
            {
                return _histogram[width];
            }

            int zeros = 64 - width;
            return ((_present >> zeros) & 1) == 0 ? 0 : CountBytes(_zeros, (byte)zeros);
        }
    }

    /// <summary>
    /// Writes the leading-zero count of every mapped value to <paramref name="zeros"/>, eight values at
    /// a time, and returns the set of counts below 64 present (bit z for count z).
    /// </summary>
    private static ulong LeadingZeros<TMap>(ReadOnlySpan<long> values, TMap map, Span<byte> zeros)
        where TMap : struct, IColumnMap
    {
        ref long x = ref MemoryMarshal.GetReference(values);
        ref byte z = ref MemoryMarshal.GetReference(zeros);
        int n = values.Length;
        int i = 0;
        var present = Vector512<ulong>.Zero;
        var one = Vector512<ulong>.One;
        for (; i + 8 <= n; i += 8)
        {
            var counts = Avx512CD.LeadingZeroCount(map.Map(Vector512.LoadUnsafe(ref x, (nuint)i)));

            // A shift by 64 gives 0: zero values (count 64) set no bit.
            present |= Avx512F.ShiftLeftLogicalVariable(one, counts);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref z, i), Avx512F.ConvertToVector128Byte(counts).AsUInt64().ToScalar());
        }

        ulong set = present[0] | present[1] | present[2] | present[3] | present[4] | present[5] | present[6] | present[7];
        for (; i < n; i++)
        {
            int count = BitOperations.LeadingZeroCount(map.Map(Unsafe.Add(ref x, i)));
            Unsafe.Add(ref z, i) = (byte)count;
            set |= count < 64 ? 1UL << count : 0;
        }

        return set;
    }

    /// <summary>How many bytes of <paramref name="bytes"/> equal <paramref name="value"/>, 64 at a time.</summary>
    private static int CountBytes(ReadOnlySpan<byte> bytes, byte value)
    {
        ref byte b = ref MemoryMarshal.GetReference(bytes);
        int n = bytes.Length;
        int i = 0;
        int count = 0;
        var target = Vector512.Create(value);
        for (; i + 64 <= n; i += 64)
        {
            count += BitOperations.PopCount(Vector512.Equals(Vector512.LoadUnsafe(ref b, (nuint)i), target).ExtractMostSignificantBits());
        }

        for (; i < n; i++)
        {
            count += Unsafe.Add(ref b, i) == value ? 1 : 0;
        }

        return count;
    }

    /// <summary>The minimum and maximum of <paramref name="values"/> (at least one), four lanes at a time.</summary>
    private static (long Min, long Max) MinMax(ReadOnlySpan<long> values)
    {
        int i = 0;
        long min = values[0];
        long max = min;
        if (Vector256.IsHardwareAccelerated && values.Length >= 8)
        {
            ref long origin = ref MemoryMarshal.GetReference(values);
            var vmin = Vector256.LoadUnsafe(ref origin);
            var vmax = vmin;
            for (i = 4; i + 4 <= values.Length; i += 4)
            {
                var x = Vector256.LoadUnsafe(ref origin, (nuint)i);
                vmin = Vector256.Min(vmin, x);
                vmax = Vector256.Max(vmax, x);
            }

            for (int lane = 0; lane < 4; lane++)
            {
                min = Math.Min(min, vmin.GetElement(lane));
                max = Math.Max(max, vmax.GetElement(lane));
            }
        }

        for (; i < values.Length; i++)
        {
            long x = values[i];
            min = Math.Min(min, x);
            max = Math.Max(max, x);
        }

        return (min, max);
    }

    /// <summary>
    /// Counts the values by the bit width of their mapped form under the candidate <paramref name="plan"/>
    /// (reference, divisor, zigzag: see <see cref="IColumnMap"/>) into <paramref name="histogram"/> (65 bins).
    /// </summary>
    /// <remarks>
    /// Most values of a column share one width, and one counter incremented value after value waits
    /// on its own previous store every time; four interleaved counters (in <paramref name="partial"/>)
    /// break that chain, and are summed at the end.
    /// </remarks>
    private static void WidthHistogram(ReadOnlySpan<long> values, in ColumnPlan plan, Span<int> histogram, Span<int> partial)
    {
        partial.Clear();
        var exact = plan.Exact;
        long reference = plan.Reference;
        switch (plan.ZigZag, plan.Divisor > 1)
        {
            case (false, false):
                Count(values, new Offset(reference), partial);
                break;
            case (false, true):
                Count(values, new OffsetDivided(reference, exact), partial);
                break;
            case (true, false):
                Count(values, new ZigZagOffset(reference), partial);
                break;
            default:
                Count(values, new ZigZagOffsetDivided(reference, exact), partial);
                break;
        }

        for (int b = 0; b <= 64; b++)
        {
            histogram[b] = partial[b] + partial[HistogramStride + b] + partial[(2 * HistogramStride) + b] + partial[(3 * HistogramStride) + b];
        }
    }

    /// <summary>Adds every mapped value's bit width to the four interleaved histograms in <paramref name="partial"/>.</summary>
    private static void Count<TMap>(ReadOnlySpan<long> values, TMap map, Span<int> partial)
        where TMap : struct, IColumnMap
    {
        ref int h = ref MemoryMarshal.GetReference(partial);
        ref long x = ref MemoryMarshal.GetReference(values);
        int n = values.Length;
        int i = 0;
        for (; i + 4 <= n; i += 4)
        {
            Unsafe.Add(ref h, 64 - BitOperations.LeadingZeroCount(map.Map(Unsafe.Add(ref x, i))))++;
            Unsafe.Add(ref h, HistogramStride + 64 - BitOperations.LeadingZeroCount(map.Map(Unsafe.Add(ref x, i + 1))))++;
            Unsafe.Add(ref h, (2 * HistogramStride) + 64 - BitOperations.LeadingZeroCount(map.Map(Unsafe.Add(ref x, i + 2))))++;
            Unsafe.Add(ref h, (3 * HistogramStride) + 64 - BitOperations.LeadingZeroCount(map.Map(Unsafe.Add(ref x, i + 3))))++;
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref h, 64 - BitOperations.LeadingZeroCount(map.Map(Unsafe.Add(ref x, i))))++;
        }
    }

    /// <summary>
    /// The median of up to 15 values sampled evenly (the middle one of the sample in sorted order): the
    /// sampled value with exactly count / 2 of the sample before it, ties ordered by position, found
    /// by comparing the sample with each of its values two vectors at a time instead of sorting it
    /// (an insertion sort's branches went either way at random).
    /// </summary>
    [SkipLocalsInit] // the sample is written in full before it is read
    private static long SampleMedian(ReadOnlySpan<long> values)
    {
        int count = Math.Min(SampleSize, values.Length);
        var stride = new SampleStride(values.Length, count);
        if (!Vector512.IsHardwareAccelerated)
        {
            Span<long> sorted = stackalloc long[SampleSize];
            for (int j = 0; j < count; j++)
            {
                long x = values[stride.Next()];
                int k = j;
                while (k > 0 && sorted[k - 1] > x)
                {
                    sorted[k] = sorted[k - 1];
                    k--;
                }

                sorted[k] = x;
            }

            return sorted[count / 2];
        }

        Span<long> sample = stackalloc long[16];
        for (int j = 0; j < count; j++)
        {
            sample[j] = values[stride.Next()];
        }

        // Lanes past the sample hold long.MaxValue and count for nothing: masked out below.
        sample[count..].Fill(long.MaxValue);
        var low = Vector512.Create<long>(sample);
        var high = Vector512.Create<long>(sample[8..]);
        uint inSample = (1u << count) - 1;
        int middle = count / 2;
        for (int i = 0; i < count; i++)
        {
            var x = Vector512.Create(sample[i]);
            uint less = (uint)(Vector512.LessThan(low, x).ExtractMostSignificantBits() | (Vector512.LessThan(high, x).ExtractMostSignificantBits() << 8));
            uint equal = (uint)(Vector512.Equals(low, x).ExtractMostSignificantBits() | (Vector512.Equals(high, x).ExtractMostSignificantBits() << 8));
            if (BitOperations.PopCount(less & inSample) + BitOperations.PopCount(equal & ((1u << i) - 1)) == middle)
            {
                return sample[i];
            }
        }

        throw new InvalidOperationException("Every sample has a median.");
    }

    private static ulong Gcd(ulong a, ulong b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }

    /// <summary>Unpacks <c>output.Length</c> values of <paramref name="width"/> bits, LSB first, starting at byte <paramref name="start"/>.</summary>
    private static void Unpack(ReadOnlySpan<byte> source, int start, int width, Span<ulong> output)
    {
        if (width == 0)
        {
            output.Clear();
            return;
        }

        ref byte origin = ref MemoryMarshal.GetReference(source);
        int length = source.Length;
        ulong mask = width == 64 ? ulong.MaxValue : (1UL << width) - 1;
        int i = 0;
        long bit = (long)start * 8;
        if (width <= 56)
        {
            // One unaligned 8-byte load covers any value of up to 57 bits; the guard keeps it inside the source.
            for (; i < output.Length; i++, bit += width)
            {
                long index = bit >> 3;
                if (index + 8 > length)
                {
                    break;
                }

                output[i] = (LoadLittleEndian(ref origin, index) >> (int)(bit & 7)) & mask;
            }
        }
        else
        {
            for (; i < output.Length; i++, bit += width)
            {
                long index = bit >> 3;
                if (index + 9 > length)
                {
                    break;
                }

                int shift = (int)(bit & 7);
                ulong low = LoadLittleEndian(ref origin, index) >> shift;
                ulong high = shift == 0 ? 0 : (ulong)Unsafe.Add(ref origin, (nint)(index + 8)) << (64 - shift);
                output[i] = (low | high) & mask;
            }
        }

        // The last values, near the end of the source: byte by byte, never past it.
        for (; i < output.Length; i++, bit += width)
        {
            ulong value = 0;
            for (int b = 0; b < width; b++)
            {
                long at = bit + b;
                ulong one = (ulong)(source[(int)(at >> 3)] >> (int)(at & 7)) & 1;
                value |= one << b;
            }

            output[i] = value;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong LoadLittleEndian(ref byte origin, long index)
    {
        ulong word = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref origin, (nint)index));
        return BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness(word);
    }
}

/// <summary>How a column plan maps a value to the unsigned number it packs (see <see cref="ColumnPlan"/>).</summary>
internal interface IColumnMap
{
    /// <summary>The mapped form of <paramref name="x"/>.</summary>
    ulong Map(long x);

    /// <summary>The mapped forms of eight values at once, lane by lane the same as <see cref="Map(long)"/>.</summary>
    Vector512<ulong> Map(Vector512<long> x);
}

/// <summary>Unsigned offset from the reference (the minimum).</summary>
internal readonly struct Offset(long reference) : IColumnMap
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Map(long x) => unchecked((ulong)(x - reference));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<ulong> Map(Vector512<long> x) => (x - Vector512.Create(reference)).AsUInt64();
}

/// <summary>Unsigned offset from the reference, divided by the common divisor.</summary>
internal readonly struct OffsetDivided(long reference, ExactDivisor divisor) : IColumnMap
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Map(long x) => divisor.Divide(unchecked((ulong)(x - reference)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<ulong> Map(Vector512<long> x) => divisor.Divide((x - Vector512.Create(reference)).AsUInt64());
}

/// <summary>Signed offset from the reference (a median), zigzag-mapped.</summary>
internal readonly struct ZigZagOffset(long reference) : IColumnMap
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Map(long x) => VarInt.ZigZag(unchecked(x - reference));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<ulong> Map(Vector512<long> x) => ExactDivisor.ZigZag(x - Vector512.Create(reference));
}

/// <summary>Signed offset from the reference, divided by the common divisor, zigzag-mapped.</summary>
internal readonly struct ZigZagOffsetDivided(long reference, ExactDivisor divisor) : IColumnMap
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Map(long x) => VarInt.ZigZag(divisor.Divide(unchecked(x - reference)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<ulong> Map(Vector512<long> x) => ExactDivisor.ZigZag(divisor.Divide(x - Vector512.Create(reference)));
}
