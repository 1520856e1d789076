using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Tailor.Format.Encoding;

namespace Tailor.Format.Payloads;

/// <summary>
/// Walks the series entries of one decompressed payload body without allocating.
/// </summary>
/// <remarks>
/// The reader and every <see cref="PayloadSeries"/> it returns point into the body span: they are
/// valid as long as that memory is (for <see cref="PayloadDecoder"/>, until its next decode).
/// Structure is checked as entries are read; a point's timestamps are checked when decoded.
/// <see cref="TryReadSeries"/> returns false at the end of the body or on the first malformed entry;
/// <see cref="Status"/> tells which.
/// </remarks>
public ref struct PayloadReader
{
    private readonly ReadOnlySpan<byte> _body;
    private int _position;
    private int _seriesLeft;
    private PayloadStatus _status;

    private PayloadReader(ReadOnlySpan<byte> body, PayloadHeader header)
    {
        _body = body;
        Header = header;
        _position = PayloadFormat.HeaderLength;
        _seriesLeft = header.SeriesCount;
        _status = PayloadStatus.Ok;
    }

    /// <summary>The payload's header.</summary>
    public PayloadHeader Header { get; }

    /// <summary><see cref="PayloadStatus.Ok"/> until a malformed entry is met, then <see cref="PayloadStatus.Malformed"/>.</summary>
    public readonly PayloadStatus Status => _status;

    /// <summary>The offset in the body of the next unread byte (or of the malformed entry).</summary>
    public readonly int Position => _position;

    /// <summary>The number of series entries not read yet.</summary>
    public readonly int SeriesRemaining => _seriesLeft;

    /// <summary>Checks the header of <paramref name="body"/> and returns a reader positioned at the first entry.</summary>
    /// <param name="body">A decompressed payload body.</param>
    /// <param name="reader">The reader, when the header is valid.</param>
    /// <returns><see cref="PayloadStatus.Ok"/>, or the reason the header is rejected.</returns>
    public static PayloadStatus TryCreate(ReadOnlySpan<byte> body, out PayloadReader reader)
    {
        reader = default;
        if (body.Length < PayloadFormat.HeaderLength)
        {
            return body.Length >= 2 && BinaryPrimitives.ReadUInt16LittleEndian(body) != PayloadFormat.Magic
                ? PayloadStatus.BadMagic
                : PayloadStatus.Malformed;
        }

        if (BinaryPrimitives.ReadUInt16LittleEndian(body) != PayloadFormat.Magic)
        {
            return PayloadStatus.BadMagic;
        }

        var version = body[2];
        if (version != PayloadFormat.CurrentVersion)
        {
            return PayloadStatus.UnsupportedVersion;
        }

        if (body[3] != PayloadFormat.ValueEncodingXor)
        {
            return PayloadStatus.Malformed;
        }

        var org = BinaryPrimitives.ReadUInt32LittleEndian(body[4..]);
        var intake = BinaryPrimitives.ReadInt64LittleEndian(body[8..]);
        var count = BinaryPrimitives.ReadUInt32LittleEndian(body[16..]);

        // Every entry takes at least 13 bytes (metric, context, metadata length, point count, timestamp length).
        if (count > (uint)(body.Length - PayloadFormat.HeaderLength) / 12)
        {
            return PayloadStatus.Malformed;
        }

        reader = new PayloadReader(body, new PayloadHeader(version, org, intake, (int)count));
        return PayloadStatus.Ok;
    }

    /// <summary>Reads the next series entry.</summary>
    /// <param name="series">The entry, valid while the body is.</param>
    /// <returns>False at the end of the payload or when the entry is malformed (see <see cref="Status"/>).</returns>
    public bool TryReadSeries(out PayloadSeries series)
    {
        if (_seriesLeft == 0 || _status != PayloadStatus.Ok)
        {
            series = default;
            if (_status == PayloadStatus.Ok && _position != _body.Length)
            {
                _status = PayloadStatus.Malformed; // trailing bytes after the last entry
            }

            return false;
        }

        var body = _body;
        var p = _position;
        if (!VarInt.TryRead(body, ref p, out var metric) || (uint)(body.Length - p) < 8u)
        {
            return Fail(out series);
        }

        var context = BinaryPrimitives.ReadUInt64LittleEndian(body.Slice(p, 8));
        p += 8;
        if (!VarInt.TryRead(body, ref p, out var metadataLength) || metadataLength > FormatLimits.MaxMetadataBytes
            || metadataLength > (ulong)(body.Length - p))
        {
            return Fail(out series);
        }

        var metadataOffset = p;
        var metadata = body.Slice(p, (int)metadataLength);
        p += (int)metadataLength;
        if (!VarInt.TryRead(body, ref p, out var points) || !VarInt.TryRead(body, ref p, out var timestampBytes))
        {
            return Fail(out series);
        }

        var rest = (ulong)(body.Length - p);
        // Each timestamp takes 1 to 10 bytes and each value exactly 8.
        if (points > rest / 9 || timestampBytes < points || timestampBytes > points * VarInt.MaxLength64
            || timestampBytes + (points * 8) > rest)
        {
            return Fail(out series);
        }

        var timestamps = body.Slice(p, (int)timestampBytes);
        p += (int)timestampBytes;
        var values = body.Slice(p, (int)points * 8);
        p += (int)points * 8;

        series = new PayloadSeries(metric, context, metadata, metadataOffset, (int)points, timestamps, values);
        _position = p;
        _seriesLeft--;
        return true;
    }

    /// <summary>
    /// Reads every remaining entry, checks every timestamp encoding, and sums up the payload.
    /// </summary>
    /// <param name="summary">The payload's counts and time range, when it is well formed.</param>
    /// <returns><see cref="PayloadStatus.Ok"/> or <see cref="PayloadStatus.Malformed"/>.</returns>
    public PayloadStatus Validate(out PayloadSummary summary)
    {
        long pointCount = 0;
        var min = long.MaxValue;
        var max = long.MinValue;
        while (TryReadSeries(out var series))
        {
            if (!series.TryGetTimeRange(out var seriesMin, out var seriesMax))
            {
                _status = PayloadStatus.Malformed;
                break;
            }

            pointCount += series.PointCount;
            if (series.PointCount > 0)
            {
                min = Math.Min(min, seriesMin);
                max = Math.Max(max, seriesMax);
            }
        }

        summary = _status == PayloadStatus.Ok
            ? new PayloadSummary(Header.OrgId, Header.IntakeTime, Header.SeriesCount, pointCount, min, max, _body.Length)
            : default;
        return _status;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool Fail(out PayloadSeries series)
    {
        _status = PayloadStatus.Malformed;
        series = default;
        return false;
    }
}

/// <summary>
/// One series entry of a payload: its key, metadata and points, still encoded.
/// </summary>
/// <remarks>Points into the payload body: valid as long as the body is.</remarks>
public readonly ref struct PayloadSeries
{
    private readonly ReadOnlySpan<byte> _timestamps;
    private readonly ReadOnlySpan<byte> _values;

    internal PayloadSeries(ulong metricId, ulong contextKey, ReadOnlySpan<byte> metadata, int metadataOffset, int pointCount,
        ReadOnlySpan<byte> timestamps, ReadOnlySpan<byte> values)
    {
        MetricId = metricId;
        ContextKey = contextKey;
        Metadata = metadata;
        MetadataOffset = metadataOffset;
        PointCount = pointCount;
        _timestamps = timestamps;
        _values = values;
    }

    /// <summary>The metric id (interned metric name).</summary>
    public ulong MetricId { get; }

    /// <summary>The context key (identity of the tag set).</summary>
    public ulong ContextKey { get; }

    /// <summary>The series' opaque metadata bytes (at most 64 KiB).</summary>
    public ReadOnlySpan<byte> Metadata { get; }

    /// <summary>Where <see cref="Metadata"/> starts in the payload body (so a caller can keep its position instead of a copy).</summary>
    public int MetadataOffset { get; }

    /// <summary>The number of points in this entry.</summary>
    public int PointCount { get; }

    /// <summary>The encoded timestamps (zigzag varint delta-of-delta).</summary>
    public ReadOnlySpan<byte> EncodedTimestamps => _timestamps;

    /// <summary>The encoded values (8 bytes each, XOR with the previous value).</summary>
    public ReadOnlySpan<byte> EncodedValues => _values;

    /// <summary>Decodes the timestamps into <paramref name="destination"/> (at least <see cref="PointCount"/> long).</summary>
    /// <returns>False when the encoding is malformed (a varint runs past the entry or bytes are left over).</returns>
    public bool TryDecodeTimestamps(Span<long> destination) => TryDecodeTimestamps(destination, out _);

    /// <summary>
    /// Decodes the timestamps into <paramref name="destination"/> (at least <see cref="PointCount"/> long)
    /// and says whether they step by one positive interval: one point, or a positive first difference
    /// and every delta-of-delta zero (differences compared as the wrapping subtraction gives them).
    /// </summary>
    /// <param name="destination">Where the timestamps go.</param>
    /// <param name="regular">Whether the timestamps step evenly upwards; meaningful when the call returns true.</param>
    /// <returns>False when the encoding is malformed (a varint runs past the entry or bytes are left over).</returns>
    public bool TryDecodeTimestamps(Span<long> destination, out bool regular)
    {
        var n = PointCount;
        if (destination.Length < n)
        {
            ThrowDestinationTooShort();
        }

        regular = n == 1;
        var src = _timestamps;
        var p = 0;
        if (n == 0)
        {
            return p == src.Length;
        }

        ref var dst = ref MemoryMarshal.GetReference(destination);
        if (!TryReadRaw(src, ref p, out var raw))
        {
            return false;
        }

        var previous = VarInt.UnZigZag(raw);
        dst = previous;
        if (n == 1)
        {
            return p == src.Length;
        }

        if (!TryReadRaw(src, ref p, out raw))
        {
            return false;
        }

        var step = VarInt.UnZigZag(raw);
        var delta = step;
        previous = unchecked(previous + delta);
        Unsafe.Add(ref dst, 1) = previous;

        // Most entries step evenly: their later deltas-of-delta are n - 2 zero bytes ending the column
        // (a zero byte is the whole varint 0), and the timestamps are first + i·step, written a vector
        // at a time without reading a varint each.
        var rest = n - 2;
        if (src.Length - p == rest && !src[p..].ContainsAnyExcept((byte)0))
        {
            Progression(destination[..n], destination[0], step);
            regular = step > 0;
            return true;
        }

        // The later deltas-of-delta: all zero exactly when every difference equals the first.
        ulong later = 0;
        for (var i = 2; i < n; i++)
        {
            if (!TryReadRaw(src, ref p, out raw))
            {
                return false;
            }

            later |= raw;
            delta = unchecked(delta + VarInt.UnZigZag(raw));
            previous = unchecked(previous + delta);
            Unsafe.Add(ref dst, i) = previous;
        }

        regular = step > 0 && later == 0;
        return p == src.Length;
    }

    /// <summary>Fills <paramref name="destination"/> with first + i·step (wrapping), from index 2: 0 and 1 are already written.</summary>
    private static void Progression(Span<long> destination, long first, long step)
    {
        var i = 2;
        ref var dst = ref MemoryMarshal.GetReference(destination);
        if (Vector256.IsHardwareAccelerated && destination.Length >= 6)
        {
            // Four at a time: lanes i .. i + 3 from the lanes four before them, plus four steps.
            var lanes = Vector256.Create(first) + (Vector256.Create(0L, 1, 2, 3) * step) + Vector256.Create(unchecked(2 * step));
            var four = Vector256.Create(unchecked(4 * step));
            for (; i + 4 <= destination.Length; i += 4)
            {
                lanes.StoreUnsafe(ref dst, (nuint)i);
                lanes += four;
            }
        }

        for (; i < destination.Length; i++)
        {
            Unsafe.Add(ref dst, i) = unchecked(first + (i * step));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryReadRaw(ReadOnlySpan<byte> src, ref int p, out ulong raw)
    {
        if ((uint)p < (uint)src.Length && src[p] < 0x80)
        {
            raw = src[p++];
            return true;
        }

        return VarInt.TryRead(src, ref p, out raw);
    }

    /// <summary>Walks the timestamps without storing them and returns their range.</summary>
    /// <returns>False when the encoding is malformed.</returns>
    public bool TryGetTimeRange(out long min, out long max)
    {
        var src = _timestamps;
        var p = 0;
        long previous = 0;
        long delta = 0;
        min = long.MaxValue;
        max = long.MinValue;
        for (var i = 0; i < PointCount; i++)
        {
            if (!VarInt.TryRead(src, ref p, out var raw))
            {
                return false;
            }

            if (i == 0)
            {
                previous = VarInt.UnZigZag(raw);
            }
            else
            {
                delta = unchecked(delta + VarInt.UnZigZag(raw));
                previous = unchecked(previous + delta);
            }

            if (previous < min)
            {
                min = previous;
            }

            if (previous > max)
            {
                max = previous;
            }
        }

        return p == src.Length;
    }

    /// <summary>Decodes the values into <paramref name="destination"/> (at least <see cref="PointCount"/> doubles), bit-exactly.</summary>
    public void DecodeValues(Span<double> destination)
    {
        var n = PointCount;
        if (destination.Length < n)
        {
            ThrowDestinationTooShort();
        }

        ref var src = ref MemoryMarshal.GetReference(_values);
        ref var dst = ref Unsafe.As<double, ulong>(ref MemoryMarshal.GetReference(destination));
        ulong previous = 0;
        for (var i = 0; i < n; i++)
        {
            var bits = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, i * 8));
            if (!BitConverter.IsLittleEndian)
            {
                bits = BinaryPrimitives.ReverseEndianness(bits);
            }

            previous ^= bits;
            Unsafe.Add(ref dst, i) = previous;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDestinationTooShort() =>
        throw new ArgumentException("The destination is shorter than the entry's point count.", "destination");
}
