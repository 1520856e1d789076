using System.Buffers.Binary;

namespace Tailor.Format.Series;

/// <summary>One entry of an S-file's page directory: where an index page is and the first key it holds.</summary>
/// <param name="FirstKey">The key of the page's first entry.</param>
/// <param name="Offset">The page's file offset.</param>
/// <param name="Length">The page's length in the file (header, stored body, checksum).</param>
/// <param name="EntryCount">The number of index entries (series) in the page.</param>
/// <param name="FirstSeries">The ordinal (0-based position in key order) of the page's first series; derived, not stored.</param>
public readonly record struct SFileIndexPage(SeriesKey FirstKey, long Offset, int Length, int EntryCount, long FirstSeries);

/// <summary>Totals over an S-file's series, kept by the writer and stored in the footer.</summary>
public struct SFileStats
{
    /// <summary>The number of series.</summary>
    public long SeriesCount;

    /// <summary>The number of points over all series.</summary>
    public long PointCount;

    /// <summary>The smallest timestamp in the file; <see cref="long.MaxValue"/> when it holds no series.</summary>
    public long MinTimestamp;

    /// <summary>The largest timestamp in the file; <see cref="long.MinValue"/> when it holds no series.</summary>
    public long MaxTimestamp;

    /// <summary>The sum of the series' metadata lengths.</summary>
    public long MetadataBytes;

    /// <summary>The most points one series has.</summary>
    public int MaxPointCount;

    /// <summary>The longest series block, checksum included.</summary>
    public int MaxBlockLength;

    /// <summary>The longest index page body (decompressed).</summary>
    public int MaxPageBodyLength;

    /// <summary>The key of the first series (default when there is none).</summary>
    public SeriesKey FirstKey;

    /// <summary>The key of the last series (default when there is none).</summary>
    public SeriesKey LastKey;

    /// <summary>Stats of an empty file.</summary>
    public static SFileStats Empty => new() { MinTimestamp = long.MaxValue, MaxTimestamp = long.MinValue };
}

/// <summary>The footer of an S-file: codec, areas, stats, first and last key, and the page directory.</summary>
/// <remarks>Immutable once built; the page directory is shared, never copied.</remarks>
public sealed class SFileFooter
{
    private readonly SFileIndexPage[] _pages;

    /// <summary>Creates a footer.</summary>
    /// <param name="codecId">The codec of every block.</param>
    /// <param name="blocksOffset">Where the first block starts (the header's length).</param>
    /// <param name="indexOffset">Where the first index page starts (the end of the blocks).</param>
    /// <param name="stats">Totals over the series.</param>
    /// <param name="pages">The page directory, in file order.</param>
    public SFileFooter(byte codecId, long blocksOffset, long indexOffset, SFileStats stats, SFileIndexPage[] pages)
    {
        ArgumentNullException.ThrowIfNull(pages);
        CodecId = codecId;
        BlocksOffset = blocksOffset;
        IndexOffset = indexOffset;
        Stats = stats;
        _pages = pages;
    }

    /// <summary>The codec of every block (the same as the header's).</summary>
    public byte CodecId { get; }

    /// <summary>The file offset of the first block: the header's length.</summary>
    public long BlocksOffset { get; }

    /// <summary>The file offset of the first index page: the end of the blocks.</summary>
    public long IndexOffset { get; }

    /// <summary>The totals over the series.</summary>
    public SFileStats Stats { get; }

    /// <summary>The page directory, in file (and key) order.</summary>
    public ReadOnlySpan<SFileIndexPage> Pages => _pages;

    /// <summary>The number of index pages.</summary>
    public int PageCount => _pages.Length;

    /// <summary>The length of all index pages together.</summary>
    public long IndexLength => _pages.Length == 0 ? 0 : _pages[^1].Offset + _pages[^1].Length - IndexOffset;

    /// <summary>The encoded length of this footer: 128 + 36 per page.</summary>
    public int EncodedLength => GetEncodedLength(_pages.Length);

    /// <summary>The encoded length of a footer with <paramref name="pageCount"/> pages.</summary>
    /// <param name="pageCount">The number of index pages.</param>
    /// <returns>128 + 36 × <paramref name="pageCount"/>.</returns>
    public static int GetEncodedLength(int pageCount) => SFileFormat.FooterFixedLength + (SFileFormat.PageDirectoryEntryLength * pageCount);

    /// <summary>Finds the page that would hold <paramref name="key"/>: the last page whose first key is not greater.</summary>
    /// <param name="key">A series key.</param>
    /// <returns>The page index, or -1 when the key lies outside [first key, last key] of the file.</returns>
    public int FindPage(in SeriesKey key)
    {
        if (_pages.Length == 0 || key < Stats.FirstKey || key > Stats.LastKey)
        {
            return -1;
        }

        int lo = 0, hi = _pages.Length - 1;
        while (lo < hi)
        {
            var mid = (int)((uint)(lo + hi + 1) >> 1);
            if (_pages[mid].FirstKey <= key)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return lo;
    }

    /// <summary>Writes the footer into <paramref name="destination"/> (at least <see cref="EncodedLength"/> bytes).</summary>
    /// <param name="destination">Where the footer goes.</param>
    public void Write(Span<byte> destination)
    {
        var f = destination[..EncodedLength];
        WriteFixed(f, CodecId, BlocksOffset, IndexOffset, Stats, _pages.Length);
        var p = SFileFormat.FooterFixedLength;
        foreach (var page in _pages)
        {
            WriteDirectoryEntry(f[p..], page.FirstKey, page.Offset, page.Length, page.EntryCount);
            p += SFileFormat.PageDirectoryEntryLength;
        }
    }

    internal static void WriteFixed(Span<byte> f, byte codecId, long blocksOffset, long indexOffset, in SFileStats s, int pageCount)
    {
        f[..SFileFormat.FooterFixedLength].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(f, SFileFormat.FooterMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(f[4..], SFileFormat.CurrentVersion);
        f[6] = codecId;
        BinaryPrimitives.WriteInt32LittleEndian(f[8..], GetEncodedLength(pageCount));
        BinaryPrimitives.WriteInt32LittleEndian(f[12..], pageCount);
        BinaryPrimitives.WriteInt64LittleEndian(f[16..], s.SeriesCount);
        BinaryPrimitives.WriteInt64LittleEndian(f[24..], s.PointCount);
        BinaryPrimitives.WriteInt64LittleEndian(f[32..], s.MinTimestamp);
        BinaryPrimitives.WriteInt64LittleEndian(f[40..], s.MaxTimestamp);
        BinaryPrimitives.WriteInt64LittleEndian(f[48..], blocksOffset);
        BinaryPrimitives.WriteInt64LittleEndian(f[56..], indexOffset);
        BinaryPrimitives.WriteInt64LittleEndian(f[64..], s.MetadataBytes);
        BinaryPrimitives.WriteInt32LittleEndian(f[72..], s.MaxPointCount);
        BinaryPrimitives.WriteInt32LittleEndian(f[76..], s.MaxBlockLength);
        BinaryPrimitives.WriteInt32LittleEndian(f[80..], s.MaxPageBodyLength);
        s.FirstKey.Write(f[88..]);
        s.LastKey.Write(f[108..]);
    }

    internal static void WriteDirectoryEntry(Span<byte> d, in SeriesKey firstKey, long offset, int length, int entryCount)
    {
        firstKey.Write(d);
        BinaryPrimitives.WriteInt64LittleEndian(d[20..], offset);
        BinaryPrimitives.WriteInt32LittleEndian(d[28..], length);
        BinaryPrimitives.WriteInt32LittleEndian(d[32..], entryCount);
    }

    /// <summary>Parses a footer and checks it against its trailer and the file's layout.</summary>
    /// <param name="bytes">Exactly the footer's bytes.</param>
    /// <param name="trailer">The file's trailer (gives the footer's offset and checksum).</param>
    /// <returns>The footer.</returns>
    /// <exception cref="SFileFormatException">The footer is damaged or inconsistent.</exception>
    public static SFileFooter Read(ReadOnlySpan<byte> bytes, in SFileTrailer trailer)
    {
        var at = trailer.FooterOffset;
        if (bytes.Length != trailer.FooterLength || bytes.Length < SFileFormat.FooterFixedLength)
        {
            SFileFormatException.Throw($"The S-file footer is {bytes.Length} bytes, not the {trailer.FooterLength} its trailer gives", at);
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes) != SFileFormat.FooterMagic)
        {
            SFileFormatException.Throw("The S-file footer does not start with the magic \"TSFF\"", at);
        }

        if (SFileFormat.Checksum(bytes) != trailer.FooterChecksum)
        {
            SFileFormatException.Throw("The S-file footer checksum does not match its trailer", at);
        }

        var pageCount = BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]);
        if (BinaryPrimitives.ReadUInt16LittleEndian(bytes[4..]) != SFileFormat.CurrentVersion
            || bytes[6] == 0 || bytes[7] != 0 || bytes[84..88].IndexOfAnyExcept((byte)0) >= 0
            || pageCount < 0 || (long)pageCount * SFileFormat.PageDirectoryEntryLength + SFileFormat.FooterFixedLength != bytes.Length
            || BinaryPrimitives.ReadInt32LittleEndian(bytes[8..]) != bytes.Length)
        {
            SFileFormatException.Throw("The S-file footer's version, codec id, length or page count is inconsistent", at);
        }

        var stats = new SFileStats
        {
            SeriesCount = BinaryPrimitives.ReadInt64LittleEndian(bytes[16..]),
            PointCount = BinaryPrimitives.ReadInt64LittleEndian(bytes[24..]),
            MinTimestamp = BinaryPrimitives.ReadInt64LittleEndian(bytes[32..]),
            MaxTimestamp = BinaryPrimitives.ReadInt64LittleEndian(bytes[40..]),
            MetadataBytes = BinaryPrimitives.ReadInt64LittleEndian(bytes[64..]),
            MaxPointCount = BinaryPrimitives.ReadInt32LittleEndian(bytes[72..]),
            MaxBlockLength = BinaryPrimitives.ReadInt32LittleEndian(bytes[76..]),
            MaxPageBodyLength = BinaryPrimitives.ReadInt32LittleEndian(bytes[80..]),
            FirstKey = SeriesKey.Read(bytes[88..]),
            LastKey = SeriesKey.Read(bytes[108..]),
        };
        var blocksOffset = BinaryPrimitives.ReadInt64LittleEndian(bytes[48..]);
        var indexOffset = BinaryPrimitives.ReadInt64LittleEndian(bytes[56..]);
        var empty = stats.SeriesCount == 0;
        if (stats.SeriesCount != trailer.SeriesCount
            || blocksOffset < SFileFormat.HeaderFixedLength || blocksOffset > SFileFormat.HeaderFixedLength + SFileFormat.MaxShardNameBytes
            || indexOffset < blocksOffset || indexOffset > at
            || stats.MetadataBytes < 0 || stats.PointCount < stats.SeriesCount
            || (stats.MaxPointCount < 1 && !empty) || stats.MaxPointCount > Codecs.SeriesCodecs.MaxPointCount
            || (stats.MaxBlockLength <= SFileFormat.BlockChecksumLength && !empty) || stats.MaxBlockLength < 0 || stats.MaxBlockLength > indexOffset - blocksOffset
            || (stats.MaxPageBodyLength < SFileFormat.IndexEntryLength && !empty) || stats.MaxPageBodyLength > SFileFormat.MaxIndexPageBodyBytes
            || (empty ? pageCount != 0 || indexOffset != blocksOffset || stats.PointCount != 0 || stats.MinTimestamp != long.MaxValue || stats.MaxTimestamp != long.MinValue
                       || stats.FirstKey != default || stats.LastKey != default || stats.MaxPointCount != 0 || stats.MaxBlockLength != 0 || stats.MaxPageBodyLength != 0
                      : pageCount == 0 || stats.MinTimestamp > stats.MaxTimestamp || stats.FirstKey > stats.LastKey))
        {
            SFileFormatException.Throw("The S-file footer's counts, areas or stats are inconsistent", at);
        }

        var pages = new SFileIndexPage[pageCount];
        var expectedOffset = indexOffset;
        long series = 0;
        var p = SFileFormat.FooterFixedLength;
        for (var i = 0; i < pageCount; i++, p += SFileFormat.PageDirectoryEntryLength)
        {
            var d = bytes[p..];
            var page = new SFileIndexPage(SeriesKey.Read(d), BinaryPrimitives.ReadInt64LittleEndian(d[20..]),
                BinaryPrimitives.ReadInt32LittleEndian(d[28..]), BinaryPrimitives.ReadInt32LittleEndian(d[32..]), series);
            if (page.Offset != expectedOffset || page.Length < SFileFormat.IndexPageOverhead || page.Length > at - page.Offset
                || page.EntryCount < 1 || (long)page.EntryCount * SFileFormat.IndexEntryLength > stats.MaxPageBodyLength
                || (i == 0 ? page.FirstKey != stats.FirstKey : page.FirstKey <= pages[i - 1].FirstKey) || page.FirstKey > stats.LastKey)
            {
                SFileFormatException.Throw($"Entry {i} of the S-file's page directory is inconsistent (offset, length, count or key order)", at + p);
            }

            pages[i] = page;
            expectedOffset = page.Offset + page.Length;
            series += page.EntryCount;
        }

        if (expectedOffset != at || series != stats.SeriesCount)
        {
            SFileFormatException.Throw("The S-file's index pages do not end at the footer or do not add up to its series count", at);
        }

        return new SFileFooter(bytes[6], blocksOffset, indexOffset, stats, pages);
    }
}
