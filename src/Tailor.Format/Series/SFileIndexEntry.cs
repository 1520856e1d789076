using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Tailor.Format.Series;

/// <summary>One series' entry of an S-file index: its key, where its block is, and its point stats.</summary>
/// <remarks>The series' metadata lives in the same index page; readers hand it out next to the entry.</remarks>
public readonly struct SFileIndexEntry : IEquatable<SFileIndexEntry>
{
    internal SFileIndexEntry(in SeriesKey key, long blockOffset, int blockLength, int pointCount, long minTimestamp, long maxTimestamp, int metadataOffset, int metadataLength)
    {
        Key = key;
        BlockOffset = blockOffset;
        BlockLength = blockLength;
        PointCount = pointCount;
        MinTimestamp = minTimestamp;
        MaxTimestamp = maxTimestamp;
        MetadataOffset = metadataOffset;
        MetadataLength = metadataLength;
    }

    /// <summary>The series key.</summary>
    public SeriesKey Key { get; }

    /// <summary>The file offset of the series' block.</summary>
    public long BlockOffset { get; }

    /// <summary>The block's length in the file: the codec's bytes plus the 4-byte checksum.</summary>
    public int BlockLength { get; }

    /// <summary>The number of points (at least 1).</summary>
    public int PointCount { get; }

    /// <summary>The first (smallest) timestamp, Unix epoch seconds.</summary>
    public long MinTimestamp { get; }

    /// <summary>The last (largest) timestamp, Unix epoch seconds.</summary>
    public long MaxTimestamp { get; }

    /// <summary>The length of the series' metadata.</summary>
    public int MetadataLength { get; }

    /// <summary>The metadata's offset in its page's metadata area.</summary>
    internal int MetadataOffset { get; }

    /// <summary>Whether the series can have points in [<paramref name="from"/>, <paramref name="to"/>), judged by its min and max timestamp.</summary>
    /// <param name="from">The first timestamp wanted (inclusive); null for no lower bound.</param>
    /// <param name="to">The end of the range (exclusive); null for no upper bound.</param>
    /// <returns>False when no point can lie in the range.</returns>
    public bool Overlaps(long? from, long? to) =>
        (from is not { } f || MaxTimestamp >= f) && (to is not { } t || MinTimestamp < t) && (from is not { } a || to is not { } b || a < b);

    /// <inheritdoc />
    public bool Equals(SFileIndexEntry other) =>
        Key == other.Key && BlockOffset == other.BlockOffset && BlockLength == other.BlockLength && PointCount == other.PointCount
        && MinTimestamp == other.MinTimestamp && MaxTimestamp == other.MaxTimestamp && MetadataLength == other.MetadataLength
        && MetadataOffset == other.MetadataOffset;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is SFileIndexEntry other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Key, BlockOffset, BlockLength, PointCount, MinTimestamp, MaxTimestamp);

    /// <summary>Whether two entries are equal.</summary>
    public static bool operator ==(SFileIndexEntry left, SFileIndexEntry right) => left.Equals(right);

    /// <summary>Whether two entries differ.</summary>
    public static bool operator !=(SFileIndexEntry left, SFileIndexEntry right) => !left.Equals(right);

    /// <inheritdoc />
    public override string ToString() =>
        $"{Key} @{BlockOffset}+{BlockLength} {PointCount} points [{MinTimestamp}, {MaxTimestamp}] metadata {MetadataLength} bytes";

    internal void Write(Span<byte> e)
    {
        Key.Write(e);
        BinaryPrimitives.WriteInt64LittleEndian(e[20..], BlockOffset);
        BinaryPrimitives.WriteInt32LittleEndian(e[28..], BlockLength);
        BinaryPrimitives.WriteInt32LittleEndian(e[32..], PointCount);
        BinaryPrimitives.WriteInt64LittleEndian(e[36..], MinTimestamp);
        BinaryPrimitives.WriteInt64LittleEndian(e[44..], MaxTimestamp);
        BinaryPrimitives.WriteInt32LittleEndian(e[52..], MetadataOffset);
        BinaryPrimitives.WriteInt32LittleEndian(e[56..SFileFormat.IndexEntryLength], MetadataLength);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static SFileIndexEntry Read(ReadOnlySpan<byte> e) => new(
        SeriesKey.Read(e),
        BinaryPrimitives.ReadInt64LittleEndian(e[20..]),
        BinaryPrimitives.ReadInt32LittleEndian(e[28..]),
        BinaryPrimitives.ReadInt32LittleEndian(e[32..]),
        BinaryPrimitives.ReadInt64LittleEndian(e[36..]),
        BinaryPrimitives.ReadInt64LittleEndian(e[44..]),
        BinaryPrimitives.ReadInt32LittleEndian(e[52..]),
        BinaryPrimitives.ReadInt32LittleEndian(e[56..SFileFormat.IndexEntryLength]));
}
