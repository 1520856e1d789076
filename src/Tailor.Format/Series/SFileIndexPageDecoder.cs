using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using Tailor.Format.Codecs;
using Tailor.Format.Zstd;

namespace Tailor.Format.Series;

/// <summary>
/// Checks and decodes index pages and series blocks for the readers: one page body at a time in a pooled
/// buffer, with a per-thread zstd context. Every check is strict: damage throws <see cref="SFileFormatException"/>.
/// </summary>
internal sealed class SFileIndexPageDecoder : IDisposable
{
    // One decompression context per thread, as the codecs keep theirs: creating one per reader would
    // cost more than decompressing the page. It is used only inside Load, which never awaits.
    [ThreadStatic]
    private static ZstdFrameDecompressor? t_decompressor;

    private readonly SFileFooter _footer;
    private readonly Crc32 _crc = new();
    private byte[] _body = [];
    private int _bodyLength;
    private int _heapStart;

    public SFileIndexPageDecoder(SFileFooter footer)
    {
        _footer = footer;
    }

    /// <summary>The index of the page loaded, or -1.</summary>
    public int PageIndex { get; private set; } = -1;

    /// <summary>The number of entries of the loaded page.</summary>
    public int EntryCount { get; private set; }

    public SFileIndexEntry GetEntry(int i) =>
        SFileIndexEntry.Read(_body.AsSpan(i * SFileFormat.IndexEntryLength, SFileFormat.IndexEntryLength));

    public ReadOnlySpan<byte> GetMetadata(SFileIndexEntry entry) => _body.AsSpan(_heapStart + entry.MetadataOffset, entry.MetadataLength);

    public ReadOnlyMemory<byte> GetMetadataMemory(in SFileIndexEntry entry) => _body.AsMemory(_heapStart + entry.MetadataOffset, entry.MetadataLength);

    /// <summary>Finds <paramref name="key"/> in the loaded page; returns its entry index or -1.</summary>
    public int Find(in SeriesKey key)
    {
        int lo = 0, hi = EntryCount - 1;
        while (lo <= hi)
        {
            var mid = (int)((uint)(lo + hi) >> 1);
            var c = SeriesKey.Read(_body.AsSpan(mid * SFileFormat.IndexEntryLength)).CompareTo(key);
            if (c == 0)
            {
                return mid;
            }

            if (c < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return -1;
    }

    /// <summary>Checks page <paramref name="pageIndex"/> (its exact bytes) and decodes its body.</summary>
    public void Load(int pageIndex, ReadOnlySpan<byte> page)
    {
        PageIndex = -1;
        var dir = _footer.Pages[pageIndex];
        var at = dir.Offset;
        if (page.Length != dir.Length)
        {
            SFileFormatException.Throw($"Index page {pageIndex} is truncated: {page.Length} of {dir.Length} bytes", at);
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(page) != SFileFormat.IndexPageMagic)
        {
            SFileFormatException.Throw($"Index page {pageIndex} does not start with the magic \"TSFI\"", at);
        }

        var crcAt = page.Length - 4;
        if (BinaryPrimitives.ReadUInt32LittleEndian(page[crcAt..]) != SFileFormat.Checksum(page[..crcAt]))
        {
            SFileFormatException.Throw($"Index page {pageIndex} checksum does not match", at);
        }

        var encoding = page[4];
        var count = BinaryPrimitives.ReadInt32LittleEndian(page[8..]);
        var bodyLength = BinaryPrimitives.ReadInt32LittleEndian(page[12..]);
        var stored = BinaryPrimitives.ReadInt32LittleEndian(page[16..]);
        if (encoding > SFileFormat.PageZstd || page[5..8].IndexOfAnyExcept((byte)0) >= 0 || count != dir.EntryCount
            || stored != page.Length - SFileFormat.IndexPageOverhead
            || bodyLength < (long)count * SFileFormat.IndexEntryLength || bodyLength > _footer.Stats.MaxPageBodyLength
            || (encoding == SFileFormat.PagePlain && stored != bodyLength))
        {
            SFileFormatException.Throw($"Index page {pageIndex} has an inconsistent header (encoding {encoding}, {count} entries, body {bodyLength} bytes, stored {stored})", at);
        }

        if (_body.Length < bodyLength)
        {
            // Bounded by the footer's largest page body, itself at most 16 MiB.
            if (_body.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_body);
            }

            _body = ArrayPool<byte>.Shared.Rent(Math.Max(bodyLength, _footer.Stats.MaxPageBodyLength));
        }

        var source = page.Slice(SFileFormat.IndexPageHeaderLength, stored);
        if (encoding == SFileFormat.PagePlain)
        {
            source.CopyTo(_body);
        }
        else
        {
            var decompressor = t_decompressor ??= new ZstdFrameDecompressor();
            var status = decompressor.Decompress(source, _body.AsSpan(0, bodyLength), out var written);
            if (status != ZstdFrameStatus.Ok || written != bodyLength)
            {
                SFileFormatException.Throw($"Index page {pageIndex} does not decompress to its {bodyLength}-byte body ({status})", at + SFileFormat.IndexPageHeaderLength);
            }
        }

        _bodyLength = bodyLength;
        _heapStart = count * SFileFormat.IndexEntryLength;
        EntryCount = count;
        CheckEntries(pageIndex, dir);
        PageIndex = pageIndex;
    }

    private void CheckEntries(int pageIndex, in SFileIndexPage dir)
    {
        var footer = _footer;
        var stats = footer.Stats;
        var lastPage = pageIndex == footer.PageCount - 1;
        var heapLength = _bodyLength - _heapStart;
        long metadataEnd = 0;
        var previous = default(SFileIndexEntry);
        for (var i = 0; i < EntryCount; i++)
        {
            var e = GetEntry(i);
            var keyOk = i == 0 ? e.Key == dir.FirstKey : e.Key > previous.Key;
            keyOk &= lastPage ? (i < EntryCount - 1 || e.Key == stats.LastKey) : e.Key < footer.Pages[pageIndex + 1].FirstKey;
            if (!keyOk
                || e.MetadataOffset != metadataEnd || e.MetadataLength < 0 || e.MetadataLength > FormatLimits.MaxMetadataBytes
                || e.PointCount < 1 || e.PointCount > stats.MaxPointCount || e.MinTimestamp > e.MaxTimestamp
                || (e.PointCount == 1 && e.MinTimestamp != e.MaxTimestamp)
                || e.BlockLength <= SFileFormat.BlockChecksumLength || e.BlockLength > stats.MaxBlockLength
                || e.BlockOffset < footer.BlocksOffset || e.BlockOffset > footer.IndexOffset - e.BlockLength
                || (i > 0 && e.BlockOffset != previous.BlockOffset + previous.BlockLength)
                || e.MinTimestamp < stats.MinTimestamp || e.MaxTimestamp > stats.MaxTimestamp)
            {
                SFileFormatException.Throw($"Entry {i} of index page {pageIndex} is inconsistent (key order, block position, counts or metadata)", dir.Offset);
            }

            metadataEnd += e.MetadataLength;
            previous = e;
        }

        if (metadataEnd != heapLength)
        {
            SFileFormatException.Throw($"The metadata of index page {pageIndex} does not fill its body", dir.Offset);
        }

        if ((pageIndex == 0 && GetEntry(0).BlockOffset != footer.BlocksOffset)
            || (lastPage && previous.BlockOffset + previous.BlockLength != footer.IndexOffset))
        {
            SFileFormatException.Throw($"The blocks of index page {pageIndex} do not start or end where the footer says", dir.Offset);
        }
    }

    /// <summary>Checks a block's checksum (its exact bytes) against its entry.</summary>
    public void VerifyBlock(in SFileIndexEntry entry, ReadOnlySpan<byte> block)
    {
        if (block.Length != entry.BlockLength)
        {
            SFileFormatException.Throw($"The block of series {entry.Key} is truncated: {block.Length} of {entry.BlockLength} bytes", entry.BlockOffset);
        }

        var codecLength = block.Length - SFileFormat.BlockChecksumLength;
        if (BinaryPrimitives.ReadUInt32LittleEndian(block[codecLength..]) != SFileFormat.BlockChecksum(entry.Key, block[..codecLength], _crc))
        {
            SFileFormatException.Throw($"The block of series {entry.Key} fails its checksum", entry.BlockOffset);
        }
    }

    /// <summary>Decodes a verified block into the caller's spans (room for the entry's point count) and checks it against its entry.</summary>
    public static void DecodeBlock(ISeriesCodec codec, in SFileIndexEntry entry, ReadOnlySpan<byte> block, Span<long> timestamps, Span<double> values)
    {
        var codecLength = entry.BlockLength - SFileFormat.BlockChecksumLength;
        if (timestamps.Length < entry.PointCount || values.Length < entry.PointCount)
        {
            throw new ArgumentException($"Series {entry.Key} has {entry.PointCount} points; the destination spans hold {Math.Min(timestamps.Length, values.Length)}.");
        }

        // The codec gets room for the entry's points only: a block that holds more disagrees with its entry, which is
        // damage (DestinationTooSmall below), not the caller's too-short spans.
        var status = codec.Decode(block[..codecLength], timestamps[..entry.PointCount], values[..entry.PointCount], out var points, out var consumed);
        if (status != OperationStatus.Done || points != entry.PointCount || consumed != codecLength)
        {
            SFileFormatException.Throw($"The block of series {entry.Key} does not decode to its {entry.PointCount} points with codec '{codec.Name}' ({status}, {points} points, {consumed} of {codecLength} bytes)", entry.BlockOffset);
        }

        var ts = timestamps[..points];
        if (ts[0] != entry.MinTimestamp || ts[^1] != entry.MaxTimestamp)
        {
            SFileFormatException.Throw($"The timestamps of series {entry.Key} do not match its index entry", entry.BlockOffset);
        }

        for (var i = 1; i < ts.Length; i++)
        {
            if (ts[i] <= ts[i - 1])
            {
                SFileFormatException.Throw($"The timestamps of series {entry.Key} are not strictly increasing at point {i}", entry.BlockOffset);
            }
        }
    }

    public void Dispose()
    {
        if (_body.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_body);
            _body = [];
        }

        PageIndex = -1;
    }
}
