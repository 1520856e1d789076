using System.Diagnostics.CodeAnalysis;

namespace Tailor.Format.Segments;

/// <summary>
/// What the two ends of a segment file say: the header, the footer (when intact), and so where
/// records begin and end. Reading it takes at most two ranged reads (the head and the tail).
/// </summary>
public sealed class SegmentLayout
{
    private SegmentLayout(long fileLength, SegmentHeader? header, string? headerProblem, SegmentFooter? footer, string? footerProblem, long dataEnd,
        long? recordCount = null)
    {
        RecordCount = footer?.Stats.RecordCount ?? recordCount;
        FileLength = fileLength;
        Header = header;
        HeaderProblem = headerProblem;
        Footer = footer;
        FooterProblem = footerProblem;
        DataEnd = dataEnd;
    }

    /// <summary>The number of tail bytes to read first: the trailer plus a typical footer (64 KiB).</summary>
    public const int DefaultTailBytes = 64 * 1024;

    /// <summary>The file's length.</summary>
    public long FileLength { get; }

    /// <summary>The header, when intact (or when it was not read).</summary>
    public SegmentHeader? Header { get; }

    /// <summary>Why the header is unusable, when it is.</summary>
    public string? HeaderProblem { get; }

    /// <summary>The footer, when the trailer and footer are intact.</summary>
    public SegmentFooter? Footer { get; }

    /// <summary>Why the footer is unusable (missing, truncated or damaged), when it is.</summary>
    public string? FooterProblem { get; }

    /// <summary>
    /// The end of the record area: the footer's offset when the trailer is intact, else
    /// <see cref="long.MaxValue"/> (the records end at the end of the file or at the footer magic).
    /// </summary>
    public long DataEnd { get; }

    /// <summary>The number of records the file holds, from the footer or the trailer; null when neither is intact.</summary>
    public long? RecordCount { get; }

    /// <summary>Whether the file's sync marker is known, from the header or the footer.</summary>
    [MemberNotNullWhen(true, nameof(SyncMarkerOrNull))]
    public bool IsReadable => SyncMarkerOrNull is not null;

    /// <summary>The file's sync marker from the header, else from the footer; null when neither is intact.</summary>
    public SyncMarker? SyncMarkerOrNull => Header?.SyncMarker ?? Footer?.SyncMarker;

    /// <summary>The sync marker.</summary>
    /// <exception cref="SegmentFormatException">Neither the header nor the footer is intact.</exception>
    public SyncMarker SyncMarker => SyncMarkerOrNull
        ?? throw new SegmentFormatException($"Not a readable segment: {HeaderProblem}, and {FooterProblem}.", 0);

    /// <summary>
    /// Builds the layout from the file's first bytes and last bytes.
    /// </summary>
    /// <param name="head">The first 56 bytes (or more, or empty to skip the header).</param>
    /// <param name="tail">The last bytes of the file; they must hold the trailer and the footer.</param>
    /// <param name="fileLength">The file's length.</param>
    /// <param name="tailBytesNeeded">
    /// The tail length the footer needs; when it is larger than <paramref name="tail"/>, read that
    /// many tail bytes and call again.
    /// </param>
    public static SegmentLayout Parse(ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail, long fileLength, out int tailBytesNeeded)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fileLength);
        SegmentHeader? header = null;
        string? headerProblem = null;
        if (!head.IsEmpty && !SegmentHeader.TryRead(head, out header, out headerProblem))
        {
            header = null;
        }

        tailBytesNeeded = Math.Min(tail.Length, (int)Math.Min(fileLength, int.MaxValue));
        SegmentFooter? footer = null;
        string? footerProblem;
        if (fileLength < SegmentFormat.HeaderLength + SegmentFormat.FooterFixedLength + SegmentFormat.TrailerLength
            || tail.Length < SegmentFormat.TrailerLength)
        {
            footerProblem = "the file is too short to hold a footer";
        }
        else if (!SegmentTrailer.TryRead(tail[^SegmentFormat.TrailerLength..], fileLength, out var trailer))
        {
            footerProblem = "the file has no intact trailer (truncated or damaged)";
        }
        else
        {
            var needed = trailer.FooterLength + SegmentFormat.TrailerLength;
            if (needed > tail.Length)
            {
                tailBytesNeeded = needed;
                return new SegmentLayout(fileLength, header, headerProblem, null, "the footer was not read yet", trailer.FooterOffset, trailer.RecordCount);
            }

            var bytes = tail.Slice(tail.Length - needed, trailer.FooterLength);
            // An intact trailer fixes where the records end even when the footer itself is damaged.
            return SegmentFooter.TryRead(bytes, trailer.FooterChecksum, trailer.FooterOffset, out footer, out footerProblem)
                ? new SegmentLayout(fileLength, header, headerProblem, footer, null, trailer.FooterOffset)
                : new SegmentLayout(fileLength, header, headerProblem, null, footerProblem, trailer.FooterOffset, trailer.RecordCount);
        }

        return new SegmentLayout(fileLength, header, headerProblem, null, footerProblem, long.MaxValue);
    }

    /// <summary>Builds the layout of a file held whole in memory.</summary>
    public static SegmentLayout Read(ReadOnlySpan<byte> file)
    {
        var tail = file[(int)Math.Max(0, file.Length - DefaultTailBytes)..];
        var layout = Parse(file, tail, file.Length, out var needed);
        return needed > tail.Length ? Parse(file, file[^needed..], file.Length, out _) : layout;
    }

    /// <summary>
    /// Reader state for the records beginning in [<paramref name="start"/>, <paramref name="end"/>).
    /// </summary>
    /// <exception cref="SegmentFormatException">Neither the header nor the footer gives the sync marker.</exception>
    public SegmentReaderState CreateSplitState(long start, long end, SegmentReaderOptions? options = null)
    {
        // Splits that reach into the footer end where the records end. A split that starts past them is empty,
        // and its state still starts at its own start: a reader over bytes from there must not be asked for earlier ones.
        end = Math.Max(start, Math.Min(end, DataEnd));
        return SegmentReaderState.ForSplit(SyncMarker, start, end, DataEnd, options);
    }

    /// <summary>Reader state for every record of the file.</summary>
    public SegmentReaderState CreateFileState(SegmentReaderOptions? options = null) =>
        CreateSplitState(0, long.MaxValue, options);

    /// <summary>Records lost to damage, given the stats of reading every split of the file.</summary>
    public long LostRecords(in SegmentReadStats stats) => stats.LostRecords(RecordCount);
}
