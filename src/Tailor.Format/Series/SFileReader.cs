using System.Buffers;
using Tailor.Format.Codecs;

namespace Tailor.Format.Series;

/// <summary>Options of the S-file readers.</summary>
public sealed class SFileReaderOptions
{
    /// <summary>Resolves the file's codec id. Default <see cref="SeriesCodecRegistry.Shared"/>.</summary>
    public SeriesCodecRegistry Codecs { get; set; } = SeriesCodecRegistry.Shared;

    /// <summary>How many bytes <see cref="SFileReader.OpenAsync"/> reads from the end of the file first; a footer
    /// larger than this costs one more read. Default <see cref="SFileLayout.DefaultTailBytes"/> (64 KiB).</summary>
    public int TailReadBytes { get; set; } = SFileLayout.DefaultTailBytes;
}

/// <summary>One series found in an S-file: its index entry and metadata.</summary>
/// <param name="Entry">The index entry (key, block position, point count, min and max timestamp).</param>
/// <param name="Metadata">The series' metadata. It points into the reader's page buffer: valid until the reader's next call.</param>
public readonly record struct SFileSeries(SFileIndexEntry Entry, ReadOnlyMemory<byte> Metadata);

/// <summary>
/// Looks series up in one S-file through ranged reads: at most three per series on a cold reader — the
/// tail (trailer and footer with the page directory), one index page, one block.
/// </summary>
/// <remarks>
/// <para><see cref="OpenAsync"/> reads the tail once (a second read only when the footer is larger than
/// <see cref="SFileReaderOptions.TailReadBytes"/>). <see cref="FindAsync"/> reads the one index page that can
/// hold the key, unless it is the page already loaded or lies inside the tail bytes already read, and finds
/// the key by binary search. <see cref="ReadPointsAsync"/> reads the series' block, checks its checksum
/// and decodes it. Every read is counted in <see cref="ReadCount"/>.</para>
/// <para>Strict: damage throws <see cref="SFileFormatException"/> naming the offset. No length in the file
/// causes an allocation beyond what its checked footer bounds (an index page body ≤ 16 MiB, a block ≤ the
/// footer's largest block, which lies inside the file). Not thread-safe; buffers (the tail, a page, a block) are
/// pooled and returned by <see cref="Dispose"/>.</para>
/// </remarks>
public sealed class SFileReader : IDisposable
{
    private readonly IRangeSource _source;
    private readonly SFileIndexPageDecoder _pages;
    private readonly long _tailOffset;
    private readonly int _tailLength;
    private byte[] _tail;
    private byte[] _buffer = [];
    private long _readCount;

    private SFileReader(IRangeSource source, SFileLayout layout, ISeriesCodec codec, byte[] tail, int tailLength, long readCount)
    {
        _source = source;
        Layout = layout;
        Codec = codec;
        _tail = tail;
        _tailLength = tailLength;
        _tailOffset = source.Length - tailLength;
        _readCount = readCount;
        _pages = new SFileIndexPageDecoder(layout.Footer);
    }

    /// <summary>The trailer and footer of the file.</summary>
    public SFileLayout Layout { get; }

    /// <summary>The file's codec.</summary>
    public ISeriesCodec Codec { get; }

    /// <summary>The number of range reads made so far, the tail read(s) of <see cref="OpenAsync"/> included.</summary>
    public long ReadCount => Interlocked.Read(ref _readCount);

    /// <summary>Opens a reader: reads the file's tail and checks its trailer and footer.</summary>
    /// <param name="source">The file.</param>
    /// <param name="options">The codec registry and the first tail read size; null for the defaults.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>The reader.</returns>
    /// <exception cref="SFileFormatException">The file is not an S-file, is truncated or damaged, or its codec is not registered.</exception>
    public static async ValueTask<SFileReader> OpenAsync(IRangeSource source, SFileReaderOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        options ??= new SFileReaderOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.TailReadBytes, SFileFormat.TrailerLength);
        var length = source.Length;
        var tailLength = (int)Math.Min(length, options.TailReadBytes);
        var tail = ArrayPool<byte>.Shared.Rent(tailLength);
        try
        {
            await source.ReadExactlyAsync(length - tailLength, tail.AsMemory(0, tailLength), cancellationToken).ConfigureAwait(false);
            long reads = 1;
            var layout = SFileLayout.Parse(tail.AsSpan(0, tailLength), length, out var needed);
            if (layout is null)
            {
                // The trailer bounds `needed` by the 64 MiB footer limit and the file's length.
                ArrayPool<byte>.Shared.Return(tail);
                tail = [];
                tail = ArrayPool<byte>.Shared.Rent(needed);
                tailLength = needed;
                await source.ReadExactlyAsync(length - needed, tail.AsMemory(0, needed), cancellationToken).ConfigureAwait(false);
                reads++;
                layout = SFileLayout.Parse(tail.AsSpan(0, needed), length, out _)!;
            }

            var reader = new SFileReader(source, layout, ResolveCodec(layout, options.Codecs), tail, tailLength, reads);
            tail = [];
            return reader;
        }
        finally
        {
            if (tail.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(tail);
            }
        }
    }

    /// <summary>Creates a reader from a layout read earlier (cached per file, say): no read at all.</summary>
    /// <param name="source">The file.</param>
    /// <param name="layout">The file's layout.</param>
    /// <param name="options">The codec registry; null for the default.</param>
    /// <returns>The reader.</returns>
    /// <exception cref="SFileFormatException">The file's codec is not registered.</exception>
    public static SFileReader Create(IRangeSource source, SFileLayout layout, SFileReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(layout);
        if (source.Length != layout.FileLength)
        {
            throw new ArgumentException($"The layout is of a {layout.FileLength}-byte file; the source has {source.Length} bytes.", nameof(layout));
        }

        return new SFileReader(source, layout, ResolveCodec(layout, (options ?? new SFileReaderOptions()).Codecs), [], 0, 0);
    }

    /// <summary>Finds one series: reads at most one index page.</summary>
    /// <param name="key">The series key.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The series' entry and metadata, or null when the file does not hold it.</returns>
    /// <exception cref="SFileFormatException">The index page is damaged.</exception>
    public async ValueTask<SFileSeries?> FindAsync(SeriesKey key, CancellationToken cancellationToken = default)
    {
        var footer = Layout.Footer;
        var pageIndex = footer.FindPage(key);
        if (pageIndex < 0)
        {
            return null;
        }

        if (_pages.PageIndex != pageIndex)
        {
            var page = footer.Pages[pageIndex];
            var bytes = await ReadRangeAsync(page.Offset, page.Length, cancellationToken).ConfigureAwait(false);
            _pages.Load(pageIndex, bytes.Span);
        }

        var i = _pages.Find(key);
        if (i < 0)
        {
            return null;
        }

        var entry = _pages.GetEntry(i);
        return new SFileSeries(entry, _pages.GetMetadataMemory(entry));
    }

    /// <summary>Reads one series' block, checks it, and decodes its points in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    /// <param name="entry">The series' entry, from <see cref="FindAsync"/>.</param>
    /// <param name="timestamps">Receives the timestamps; must hold <see cref="SFileIndexEntry.PointCount"/> points
    /// (the whole block is decoded before the range is cut out).</param>
    /// <param name="values">Receives the values; same room.</param>
    /// <param name="from">The first timestamp wanted (inclusive); null (the default) for no lower bound.</param>
    /// <param name="to">The end of the range (exclusive); null (the default) for no upper bound.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The number of points in the range, written at the start of both destinations in time order.
    /// No read is made when the entry's min and max timestamps show that none can be in the range.</returns>
    /// <exception cref="ArgumentException">A destination is shorter than the point count.</exception>
    /// <exception cref="SFileFormatException">The block is damaged.</exception>
    public async ValueTask<int> ReadPointsAsync(SFileIndexEntry entry, Memory<long> timestamps, Memory<double> values,
        long? from = null, long? to = null, CancellationToken cancellationToken = default)
    {
        if (timestamps.Length < entry.PointCount || values.Length < entry.PointCount)
        {
            throw new ArgumentException($"Series {entry.Key} has {entry.PointCount} points; the destinations hold {Math.Min(timestamps.Length, values.Length)}.");
        }

        var footer = Layout.Footer;
        if (entry.BlockOffset < footer.BlocksOffset || entry.BlockLength <= SFileFormat.BlockChecksumLength || entry.BlockLength > footer.Stats.MaxBlockLength
            || entry.BlockOffset > footer.IndexOffset - entry.BlockLength || entry.PointCount < 1 || entry.PointCount > footer.Stats.MaxPointCount)
        {
            throw new ArgumentException($"The entry of {entry.Key} does not belong to this file.", nameof(entry));
        }

        if (!entry.Overlaps(from, to))
        {
            return 0;
        }

        var block = await ReadRangeAsync(entry.BlockOffset, entry.BlockLength, cancellationToken).ConfigureAwait(false);
        return Decode(entry, block.Span, timestamps.Span, values.Span, from, to);
    }

    /// <summary>Returns the reader's buffers to the pool.</summary>
    public void Dispose()
    {
        _pages.Dispose();
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }

        if (_tail.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_tail);
            _tail = [];
        }
    }

    private int Decode(in SFileIndexEntry entry, ReadOnlySpan<byte> block, Span<long> timestamps, Span<double> values, long? from, long? to)
    {
        _pages.VerifyBlock(entry, block);
        SFileIndexPageDecoder.DecodeBlock(Codec, entry, block, timestamps, values);
        var ts = timestamps[..entry.PointCount];
        var lo = from is { } f && f > entry.MinTimestamp ? LowerBound(ts, f) : 0;
        var hi = to is { } t && t <= entry.MaxTimestamp ? LowerBound(ts, t) : ts.Length;
        if (lo > 0 && hi > lo)
        {
            ts[lo..hi].CopyTo(timestamps);
            values[lo..hi].CopyTo(values);
        }

        return Math.Max(0, hi - lo);
    }

    private static int LowerBound(ReadOnlySpan<long> sorted, long value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (int)((uint)(lo + hi) >> 1);
            if (sorted[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private async ValueTask<ReadOnlyMemory<byte>> ReadRangeAsync(long offset, int length, CancellationToken cancellationToken)
    {
        if (offset >= _tailOffset && offset + length <= _tailOffset + _tailLength && _tail.Length > 0)
        {
            return _tail.AsMemory((int)(offset - _tailOffset), length); // already read with the tail
        }

        if (_buffer.Length < length)
        {
            if (_buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = [];
            }

            _buffer = ArrayPool<byte>.Shared.Rent(length);
        }

        var memory = _buffer.AsMemory(0, length);
        Interlocked.Increment(ref _readCount);
        await _source.ReadExactlyAsync(offset, memory, cancellationToken).ConfigureAwait(false);
        return memory;
    }

    private static ISeriesCodec ResolveCodec(SFileLayout layout, SeriesCodecRegistry codecs)
    {
        ArgumentNullException.ThrowIfNull(codecs);
        var id = layout.Footer.CodecId;
        return codecs.TryGet(id, out var codec)
            ? codec
            : throw new SFileFormatException($"The S-file's codec id {id} is not registered (known: {string.Join(", ", codecs.Codecs.Select(c => $"{c.Id} {c.Name}"))})", layout.FooterOffset + 6);
    }
}
