namespace Tailor.Format.Segments;

/// <summary>Options shared by every segment reader.</summary>
public sealed class SegmentReaderOptions
{
    /// <summary>The shared default options: lenient, 16 MiB records.</summary>
    public static SegmentReaderOptions Default { get; } = new();

    /// <summary>
    /// The largest record frame accepted; a length field above it is damage, never an allocation.
    /// Default 16 MiB.
    /// </summary>
    public int MaxRecordBytes { get; init; } = FormatLimits.DefaultMaxRecordBytes;

    /// <summary>
    /// False (default): damaged records are counted and skipped and the reader resynchronises on the
    /// next sync marker. True: the first damage throws a <see cref="SegmentFormatException"/> naming
    /// its file offset.
    /// </summary>
    public bool Strict { get; init; }
}

/// <summary>What a segment reader has seen so far.</summary>
public struct SegmentReadStats
{
    /// <summary>Intact records returned.</summary>
    public long RecordsRead;

    /// <summary>Contiguous damaged regions skipped (each resynchronisation counts one).</summary>
    public long DamagedRegions;

    /// <summary>Bytes skipped inside damaged regions.</summary>
    public long DamagedBytes;

    /// <summary>The highest record ordinal returned, or -1.</summary>
    public long MaxOrdinal;

    /// <summary>Whether a damaged region ran to the end of the readable data (a truncated file).</summary>
    public bool DamagedTail;

    /// <summary>
    /// Records lost to damage in a whole-file read: the footer's record count (or, without a footer,
    /// the highest ordinal seen plus one, plus one more for a damaged tail) minus the records read.
    /// </summary>
    /// <param name="footerRecordCount">The footer's record count when the footer is intact.</param>
    public readonly long LostRecords(long? footerRecordCount)
    {
        var expected = footerRecordCount ?? (MaxOrdinal + 1 + (DamagedTail ? 1 : 0));
        return Math.Max(0, expected - RecordsRead);
    }

    /// <summary>Adds the counts of another reader (for example of another split of the same file).</summary>
    public void Add(in SegmentReadStats other)
    {
        RecordsRead += other.RecordsRead;
        DamagedRegions += other.DamagedRegions;
        DamagedBytes += other.DamagedBytes;
        MaxOrdinal = Math.Max(MaxOrdinal, other.MaxOrdinal);
        DamagedTail |= other.DamagedTail;
    }

    internal static SegmentReadStats Empty => new() { MaxOrdinal = -1 };
}

/// <summary>Where a reader stands in the file.</summary>
internal enum ReaderPhase : byte
{
    Header,
    Seek,
    Records,
    Resync,
    Done,
}

/// <summary>
/// The state of a <see cref="SegmentReader"/> that survives between buffers (and awaits): a new
/// reader continues from it over the next bytes, which must start at <see cref="Position"/>.
/// </summary>
public struct SegmentReaderState
{
    internal ReaderPhase Phase;
    internal long SplitEnd;
    internal long DataEnd;
    internal long DamageStart;
    internal bool FooterKnown;
    internal SyncMarker Marker;
    internal SegmentReaderOptions Options;
    internal SegmentReadStats ReadStats;

    /// <summary>The file offset of the next byte the reader needs; the next buffer must start here.</summary>
    public long Position { get; internal set; }

    /// <summary>Whether the reader has finished its range (or the file).</summary>
    public readonly bool IsDone => Phase == ReaderPhase.Done;

    /// <summary>Counts of records read and damage skipped so far.</summary>
    public readonly SegmentReadStats Stats => ReadStats;

    /// <summary>The number of bytes from <see cref="Position"/> the reader needs to make progress (a hint for sources that fill buffers).</summary>
    public int BytesNeeded { get; internal set; }

    /// <summary>
    /// State for reading a whole file from its first byte (the header is read and checked first).
    /// </summary>
    /// <param name="options">Reader options; default lenient.</param>
    /// <param name="dataEnd">The end of the record area (the footer offset) when known from the trailer; else unknown.</param>
    public static SegmentReaderState ForFile(SegmentReaderOptions? options = null, long dataEnd = long.MaxValue) => new()
    {
        Phase = ReaderPhase.Header,
        SplitEnd = long.MaxValue,
        DataEnd = dataEnd,
        FooterKnown = dataEnd != long.MaxValue,
        Options = options ?? SegmentReaderOptions.Default,
        ReadStats = SegmentReadStats.Empty,
        Position = 0,
        BytesNeeded = SegmentFormat.HeaderLength,
    };

    /// <summary>
    /// State for reading the records that begin in [<paramref name="start"/>, <paramref name="end"/>)
    /// of a file whose sync marker is known (from its header or footer).
    /// </summary>
    /// <param name="marker">The file's sync marker.</param>
    /// <param name="start">The split's first byte.</param>
    /// <param name="end">The split's end (exclusive).</param>
    /// <param name="dataEnd">
    /// The end of the record area when an intact trailer gives it (the footer offset), else
    /// <see cref="long.MaxValue"/>: the records then end at the end of the data or at the footer magic.
    /// </param>
    /// <param name="options">Reader options; default lenient.</param>
    /// <remarks>
    /// Over any set of contiguous splits, every intact record is returned exactly once, and every
    /// damaged region is counted once: by the split that read the last intact record before it (or the
    /// first split when none precedes it). A split reads past <paramref name="end"/> only to finish
    /// its last record and to look at what follows it.
    /// </remarks>
    public static SegmentReaderState ForSplit(SyncMarker marker, long start, long end, long dataEnd = long.MaxValue, SegmentReaderOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfLessThan(end, start);
        // Exactly one of a set of contiguous splits holds the first record position: it expects a
        // record there, so damage right after the header is counted once. The others seek silently.
        var first = start <= SegmentFormat.HeaderLength && end > SegmentFormat.HeaderLength;
        return new SegmentReaderState
        {
            Phase = first ? ReaderPhase.Records : ReaderPhase.Seek,
            SplitEnd = end,
            DataEnd = dataEnd,
            FooterKnown = dataEnd != long.MaxValue,
            Marker = marker,
            Options = options ?? SegmentReaderOptions.Default,
            ReadStats = SegmentReadStats.Empty,
            // Records begin at the first record position or later: a split that starts inside the header seeks from there,
            // never in the header's bytes (which hold the marker).
            Position = first ? SegmentFormat.HeaderLength : Math.Max(start, SegmentFormat.HeaderLength),
            BytesNeeded = SegmentFormat.RecordHeaderLength,
        };
    }
}

/// <summary>A segment file is damaged and the reader is in strict mode, or it cannot be read at all.</summary>
public sealed class SegmentFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SegmentFormatException(string message, long offset)
        : base(message)
    {
        Offset = offset;
    }

    /// <summary>Creates the exception without an offset.</summary>
    public SegmentFormatException()
    {
    }

    /// <summary>Creates the exception without an offset.</summary>
    public SegmentFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception without an offset.</summary>
    public SegmentFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The file offset of the damage.</summary>
    public long Offset { get; }
}
