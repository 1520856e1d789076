using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.IO.Hashing;
using Tailor.Format.Codecs;
using Tailor.Format.Zstd;

namespace Tailor.Format.Series;

/// <summary>
/// Writes an S-file — header, one block per series, index pages, footer, trailer — into an
/// <see cref="IBufferWriter{T}"/>, so the bytes can go to memory, a file or a multipart upload as they are made.
/// </summary>
/// <remarks>
/// <para>The header is written by the constructor. Each <see cref="AddSeries"/> encodes one series' block
/// straight into the output and adds its index entry to the current index page; full pages are
/// compressed and held (in pooled 64 KiB chunks) until <see cref="Complete"/> writes them after the
/// blocks, followed by the footer and trailer. Memory is therefore the index (typically 20–60 bytes per
/// series after compression) plus one page, whatever the file's size.</para>
/// <para>The output is a pure function of the series added and the options: the same input gives the
/// same bytes. Steady-state <see cref="AddSeries"/> allocates nothing: codec scratch memory is per
/// thread, and every buffer of the writer comes from <see cref="SFileWriterOptions.BufferPool"/> and
/// is returned by <see cref="Complete"/> or <see cref="Dispose"/>. Not thread-safe.</para>
/// </remarks>
public sealed class SFileWriter : IDisposable
{
    private readonly IBufferWriter<byte> _output;
    private readonly ISeriesCodec _codec;
    private readonly ArrayPool<byte> _pool;
    private readonly int _pageTarget;
    private readonly ZstdFrameCompressor? _compressor;
    private readonly Crc32 _crc = new();
    private readonly PooledChunks _index;
    private PooledBuffer _entries = new();
    private PooledBuffer _heap = new();
    private PooledBuffer _body = new();
    private PooledBuffer _page = new();
    private PooledBuffer _directory = new();
    private SFileStats _stats = SFileStats.Empty;
    private SeriesKey _pageFirstKey;
    private int _pageEntryCount;
    private int _pageCount;
    private bool _completed;
    private bool _disposed;

    /// <summary>Creates a writer and writes the file header to <paramref name="output"/>.</summary>
    /// <param name="output">Where the file's bytes go, in order.</param>
    /// <param name="options">The codec, shard, window and index settings; null for the defaults.</param>
    /// <exception cref="ArgumentException">An option is out of range (shard name too long, page target, window length).</exception>
    public SFileWriter(IBufferWriter<byte> output, SFileWriterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        options ??= new SFileWriterOptions();
        ArgumentNullException.ThrowIfNull(options.Codec);
        ArgumentNullException.ThrowIfNull(options.BufferPool);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.IndexPageTargetBytes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.IndexPageTargetBytes, SFileFormat.MaxIndexPageTargetBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(options.WindowSeconds);
        if (options.Codec.Id == 0)
        {
            throw new ArgumentException("Codec id 0 is invalid.", nameof(options));
        }

        SFileHeader.ValidateShard(options.Shard);
        _output = output;
        _codec = options.Codec;
        _pool = options.BufferPool;
        _pageTarget = options.IndexPageTargetBytes;
        _compressor = options.CompressIndexPages ? new ZstdFrameCompressor(options.IndexCompressionLevel) : null;
        _index = new PooledChunks(_pool);
        Header = new SFileHeader(SFileFormat.CurrentVersion, _codec.Id, options.Shard, options.WindowStart, options.WindowSeconds);
        var length = Header.Write(output.GetSpan(SFileFormat.HeaderFixedLength + SFileFormat.MaxShardNameBytes));
        output.Advance(length);
        Length = length;
        BlocksOffset = length;
    }

    /// <summary>The file header (written by the constructor).</summary>
    public SFileHeader Header { get; }

    /// <summary>The codec of every block.</summary>
    public ISeriesCodec Codec => _codec;

    /// <summary>The number of bytes written to the output so far.</summary>
    public long Length { get; private set; }

    /// <summary>The file offset of the first block (the header's length).</summary>
    public long BlocksOffset { get; }

    /// <summary>The number of series added so far.</summary>
    public long SeriesCount => _stats.SeriesCount;

    /// <summary>The number of points added so far.</summary>
    public long PointCount => _stats.PointCount;

    /// <summary>The totals over the series added so far.</summary>
    public SFileStats Stats => _stats;

    /// <summary>Adds one series: writes its block and records its index entry.</summary>
    /// <param name="key">The series key; strictly greater than the previous series' key.</param>
    /// <param name="metadata">The series' metadata, at most <see cref="FormatLimits.MaxMetadataBytes"/> bytes (copied).</param>
    /// <param name="timestamps">The timestamps, strictly increasing; 1 .. <see cref="SeriesCodecs.MaxPointCount"/> of them.</param>
    /// <param name="values">The values, one per timestamp; every bit pattern is kept.</param>
    /// <returns>The file offset of the series' block.</returns>
    /// <exception cref="ArgumentException">The key does not follow the previous one, the metadata is too long,
    /// the spans differ in length or are empty or too long, or the timestamps are not strictly increasing.</exception>
    /// <exception cref="InvalidOperationException">The writer is complete or disposed.</exception>
    public long AddSeries(in SeriesKey key, ReadOnlySpan<byte> metadata, ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values)
    {
        if (_completed || _disposed)
        {
            ThrowCompleted();
        }

        if (_stats.SeriesCount > 0 && key <= _stats.LastKey)
        {
            ThrowKeyOrder(key, _stats.LastKey);
        }

        if (metadata.Length > FormatLimits.MaxMetadataBytes)
        {
            ThrowMetadataTooLong(metadata.Length);
        }

        var count = timestamps.Length;
        if (count != values.Length || count == 0 || count > SeriesCodecs.MaxPointCount)
        {
            ThrowBadPoints(count, values.Length);
        }

        for (var i = 1; i < timestamps.Length; i++)
        {
            if (timestamps[i] <= timestamps[i - 1])
            {
                ThrowNotIncreasing(key, i);
            }
        }

        // The block: the codec's bytes straight into the output, then the checksum that binds them to the key.
        var span = _output.GetSpan(_codec.GetMaxEncodedLength(count) + SFileFormat.BlockChecksumLength);
        var written = _codec.Encode(timestamps, values, span);
        return AppendBlock(key, metadata, span, written, count, timestamps[0], timestamps[^1]);
    }

    /// <summary>
    /// Adds one series whose block the caller already encoded with this writer's codec (so series can
    /// be encoded in parallel and written in key order here).
    /// </summary>
    /// <param name="key">The series key; strictly greater than the previous series' key.</param>
    /// <param name="metadata">The series' metadata, at most <see cref="FormatLimits.MaxMetadataBytes"/> bytes (copied).</param>
    /// <param name="block">The codec's encoding of the points (<see cref="ISeriesCodec.Encode"/>), without checksum.</param>
    /// <param name="pointCount">The number of points encoded.</param>
    /// <param name="firstTimestamp">The first (smallest) timestamp.</param>
    /// <param name="lastTimestamp">The last (largest) timestamp.</param>
    /// <returns>The file offset of the series' block.</returns>
    /// <exception cref="ArgumentException">The key does not follow the previous one, the metadata is too long, or the counts are out of range.</exception>
    public long AddEncodedSeries(in SeriesKey key, ReadOnlySpan<byte> metadata, ReadOnlySpan<byte> block, int pointCount, long firstTimestamp, long lastTimestamp)
    {
        if (_completed || _disposed)
        {
            ThrowCompleted();
        }

        if (_stats.SeriesCount > 0 && key <= _stats.LastKey)
        {
            ThrowKeyOrder(key, _stats.LastKey);
        }

        if (metadata.Length > FormatLimits.MaxMetadataBytes)
        {
            ThrowMetadataTooLong(metadata.Length);
        }

        if (pointCount <= 0 || pointCount > SeriesCodecs.MaxPointCount || block.IsEmpty || lastTimestamp < firstTimestamp)
        {
            ThrowBadPoints(pointCount, pointCount);
        }

        var span = _output.GetSpan(block.Length + SFileFormat.BlockChecksumLength);
        block.CopyTo(span);
        return AppendBlock(key, metadata, span, block.Length, pointCount, firstTimestamp, lastTimestamp);
    }

    private long AppendBlock(in SeriesKey key, ReadOnlySpan<byte> metadata, Span<byte> span, int written, int count, long first, long last)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(span[written..], SFileFormat.BlockChecksum(key, span[..written], _crc));
        var blockLength = written + SFileFormat.BlockChecksumLength;
        _output.Advance(blockLength);
        var offset = Length;
        Length += blockLength;

        var entrySize = SFileFormat.IndexEntryLength + metadata.Length;
        if (_pageEntryCount > 0 && (long)_entries.Length + _heap.Length + entrySize > _pageTarget)
        {
            ClosePage();
        }

        if (_pageEntryCount == 0)
        {
            _pageFirstKey = key;
        }

        var entry = new SFileIndexEntry(key, offset, blockLength, count, first, last, _heap.Length, metadata.Length);
        entry.Write(_entries.Extend(_pool, SFileFormat.IndexEntryLength));
        _heap.Append(_pool, metadata);
        _pageEntryCount++;

        if (_stats.SeriesCount == 0)
        {
            _stats.FirstKey = key;
        }

        _stats.LastKey = key;
        _stats.SeriesCount++;
        _stats.PointCount += count;
        _stats.MinTimestamp = Math.Min(_stats.MinTimestamp, first);
        _stats.MaxTimestamp = Math.Max(_stats.MaxTimestamp, last);
        _stats.MetadataBytes += metadata.Length;
        _stats.MaxPointCount = Math.Max(_stats.MaxPointCount, count);
        _stats.MaxBlockLength = Math.Max(_stats.MaxBlockLength, blockLength);
        return offset;
    }

    /// <summary>Writes the index pages, footer and trailer; the file is then complete, and the writer's buffers are returned.</summary>
    /// <returns>The footer written (stats and page directory).</returns>
    /// <exception cref="InvalidOperationException">The writer is already complete or disposed.</exception>
    public SFileFooter Complete()
    {
        if (_completed || _disposed)
        {
            ThrowCompleted();
        }

        _completed = true;
        if (_pageEntryCount > 0)
        {
            ClosePage();
        }

        var indexOffset = Length;
        _index.CopyTo(_output);
        Length += _index.Length;

        var pages = new SFileIndexPage[_pageCount];
        long firstSeries = 0;
        for (var i = 0; i < pages.Length; i++)
        {
            var d = _directory.Array.AsSpan(i * SFileFormat.PageDirectoryEntryLength);
            var page = new SFileIndexPage(SeriesKey.Read(d), indexOffset + BinaryPrimitives.ReadInt64LittleEndian(d[20..]),
                BinaryPrimitives.ReadInt32LittleEndian(d[28..]), BinaryPrimitives.ReadInt32LittleEndian(d[32..]), firstSeries);
            pages[i] = page;
            firstSeries += page.EntryCount;
        }

        var footer = new SFileFooter(_codec.Id, BlocksOffset, indexOffset, _stats, pages);
        var footerLength = footer.EncodedLength;
        var span = _output.GetSpan(footerLength + SFileFormat.TrailerLength);
        footer.Write(span);
        new SFileTrailer(Length, footerLength, SFileFormat.Checksum(span[..footerLength]), _stats.SeriesCount).Write(span[footerLength..]);
        _output.Advance(footerLength + SFileFormat.TrailerLength);
        Length += footerLength + SFileFormat.TrailerLength;
        ReturnBuffers();
        return footer;
    }

    /// <summary>Returns the writer's buffers to the pool and frees its compressor. Does not complete the file.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        ReturnBuffers();
    }

    private void ReturnBuffers()
    {
        _entries.Return(_pool);
        _heap.Return(_pool);
        _body.Return(_pool);
        _page.Return(_pool);
        _directory.Return(_pool);
        _index.Return();
        _compressor?.Dispose();
    }

    private void ClosePage()
    {
        var bodyLength = _entries.Length + _heap.Length;
        _body.Length = 0;
        _body.Append(_pool, _entries.Written);
        _body.Append(_pool, _heap.Written);
        var body = _body.Written;

        var room = _compressor is null ? bodyLength : Math.Max(bodyLength, ZstdFrameCompressor.GetMaxFrameLength(bodyLength));
        _page.Length = 0;
        var page = _page.Extend(_pool, SFileFormat.IndexPageOverhead + room);
        var encoding = SFileFormat.PagePlain;
        var stored = bodyLength;
        if (_compressor is not null)
        {
            var frame = _compressor.Compress(body, page.Slice(SFileFormat.IndexPageHeaderLength, room));
            // Keep the frame only where it saves at least an eighth, as the codecs do.
            if ((long)frame * 8 <= (long)bodyLength * 7)
            {
                encoding = SFileFormat.PageZstd;
                stored = frame;
            }
        }

        if (encoding == SFileFormat.PagePlain)
        {
            body.CopyTo(page[SFileFormat.IndexPageHeaderLength..]);
        }

        page[..SFileFormat.IndexPageHeaderLength].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(page, SFileFormat.IndexPageMagic);
        page[4] = encoding;
        BinaryPrimitives.WriteInt32LittleEndian(page[8..], _pageEntryCount);
        BinaryPrimitives.WriteInt32LittleEndian(page[12..], bodyLength);
        BinaryPrimitives.WriteInt32LittleEndian(page[16..], stored);
        var crcAt = SFileFormat.IndexPageHeaderLength + stored;
        BinaryPrimitives.WriteUInt32LittleEndian(page[crcAt..], SFileFormat.Checksum(page[..crcAt]));
        var pageLength = crcAt + 4;

        SFileFooter.WriteDirectoryEntry(_directory.Extend(_pool, SFileFormat.PageDirectoryEntryLength), _pageFirstKey, _index.Length, pageLength, _pageEntryCount);
        _index.Append(page[..pageLength]);
        _pageCount++;
        _stats.MaxPageBodyLength = Math.Max(_stats.MaxPageBodyLength, bodyLength);
        _entries.Length = 0;
        _heap.Length = 0;
        _pageEntryCount = 0;
    }

    [DoesNotReturn]
    private static void ThrowCompleted() =>
        throw new InvalidOperationException("The S-file writer is complete or disposed.");

    [DoesNotReturn]
    private static void ThrowKeyOrder(SeriesKey key, SeriesKey last) =>
        throw new ArgumentException($"Series must be added in strictly increasing key order: {key} does not follow {last}.", nameof(key));

    [DoesNotReturn]
    private static void ThrowMetadataTooLong(int length) =>
        throw new ArgumentException($"Metadata is {length} bytes; at most {FormatLimits.MaxMetadataBytes} are allowed.");

    [DoesNotReturn]
    private static void ThrowBadPoints(int timestamps, int values) =>
        throw new ArgumentException(
            $"A series needs 1 .. {SeriesCodecs.MaxPointCount} points and as many values as timestamps; got {timestamps} timestamps and {values} values.");

    [DoesNotReturn]
    private static void ThrowNotIncreasing(SeriesKey key, int index) =>
        throw new ArgumentException($"The timestamps of series {key} are not strictly increasing at index {index}.");
}
