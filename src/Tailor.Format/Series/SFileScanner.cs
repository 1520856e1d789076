using Tailor.Format.Codecs;

namespace Tailor.Format.Series;

/// <summary>
/// Walks every series of an S-file in key order — index entry, metadata, checked block — and decodes
/// points into caller buffers: the reader the compaction verifier streams whole files through.
/// </summary>
/// <remarks>
/// <para>Over one span (a file in memory, at most 2 GiB) or an <see cref="SFileSpanSource"/> such as a
/// <see cref="MappedSFile"/> of any size: each index page and each block is a span of its own, so no
/// span ever needs to address the whole file.</para>
/// <para>Strict: the header, trailer, footer, every index page and every block checksum are checked, as
/// are the links between them (blocks back to back in key order, counts and stats adding up to the
/// footer's); the first damage throws <see cref="SFileFormatException"/> naming its offset.
/// <see cref="MoveNext"/> verifies the block's checksum; <see cref="ReadPoints"/> decodes it and checks the
/// points against the entry. After the last series, <see cref="MoveNext"/> checks the totals.</para>
/// <para>Allocation-free per series: one page body buffer (pooled, sized by the footer) serves the whole
/// file, and the zstd context is per thread. Call <see cref="Dispose"/> to return the buffer. <see cref="Metadata"/> and
/// <see cref="Block"/> are valid until the next <see cref="MoveNext"/>.</para>
/// </remarks>
public ref struct SFileScanner
{
    private readonly ReadOnlySpan<byte> _file;
    private readonly SFileSpanSource? _source;
    private readonly SFileIndexPageDecoder _pages;
    private int _pageIndex;
    private int _entryIndex;
    private long _nextBlockOffset;
    private long _points;
    private long _metadataBytes;
    private SFileIndexEntry _current;
    private bool _done;

    /// <summary>Creates a scanner over a file held whole in one span.</summary>
    /// <param name="file">Every byte of the file.</param>
    /// <param name="options">The codec registry; null for the default.</param>
    /// <exception cref="SFileFormatException">The header, trailer or footer is damaged, or the codec is not registered.</exception>
    public SFileScanner(ReadOnlySpan<byte> file, SFileReaderOptions? options = null)
        : this(file, null, file.Length, options)
    {
    }

    /// <summary>Creates a scanner over a file of any size served as spans (e.g. a <see cref="MappedSFile"/>).</summary>
    /// <param name="file">The file.</param>
    /// <param name="options">The codec registry; null for the default.</param>
    /// <exception cref="SFileFormatException">The header, trailer or footer is damaged, or the codec is not registered.</exception>
    public SFileScanner(SFileSpanSource file, SFileReaderOptions? options = null)
        : this(default, file ?? throw new ArgumentNullException(nameof(file)), file.Length, options)
    {
    }

    private SFileScanner(ReadOnlySpan<byte> file, SFileSpanSource? source, long length, SFileReaderOptions? options)
    {
        _file = file;
        _source = source;
        options ??= new SFileReaderOptions();
        var headBytes = (int)Math.Min(length, SFileFormat.HeaderFixedLength + SFileFormat.MaxShardNameBytes);
        Header = SFileHeader.Read(Span(0, headBytes));
        var tailBytes = (int)Math.Min(length, SFileLayout.DefaultTailBytes);
        Layout = SFileLayout.Parse(Span(length - tailBytes, tailBytes), length, out var needed)
            ?? SFileLayout.Parse(Span(length - needed, needed), length, out _)!;
        var footer = Layout.Footer;
        if (footer.CodecId != Header.CodecId || footer.BlocksOffset != Header.Length)
        {
            SFileFormatException.Throw($"The S-file's header (codec {Header.CodecId}, {Header.Length} bytes) disagrees with its footer (codec {footer.CodecId}, blocks at {footer.BlocksOffset})", 0);
        }

        ArgumentNullException.ThrowIfNull(options.Codecs);
        if (!options.Codecs.TryGet(footer.CodecId, out var codec))
        {
            throw new SFileFormatException($"The S-file's codec id {footer.CodecId} is not registered", 8);
        }

        Codec = codec;
        _pages = new SFileIndexPageDecoder(footer);
        _pageIndex = -1;
        _entryIndex = 0;
        _nextBlockOffset = footer.BlocksOffset;
    }

    /// <summary>The file header.</summary>
    public SFileHeader Header { get; }

    /// <summary>The trailer and footer.</summary>
    public SFileLayout Layout { get; }

    /// <summary>The file's codec.</summary>
    public ISeriesCodec Codec { get; }

    /// <summary>The number of series moved to so far.</summary>
    public long SeriesRead { get; private set; }

    /// <summary>The current series' index entry.</summary>
    public readonly SFileIndexEntry Current => _current;

    /// <summary>The current series' metadata; valid until the next <see cref="MoveNext"/>.</summary>
    public readonly ReadOnlySpan<byte> Metadata => _pages.GetMetadata(_current);

    /// <summary>The current series' block (codec bytes and checksum, already verified); valid until the next <see cref="MoveNext"/>.</summary>
    public readonly ReadOnlySpan<byte> Block => Span(_current.BlockOffset, _current.BlockLength);

    /// <summary>Moves to the next series in key order and verifies its block's checksum.</summary>
    /// <returns>False after the last series (the totals then have been checked against the footer).</returns>
    /// <exception cref="SFileFormatException">An index page, a block or the totals are damaged.</exception>
    public bool MoveNext()
    {
        if (_done)
        {
            return false;
        }

        var footer = Layout.Footer;
        while (_pageIndex < 0 || _entryIndex >= _pages.EntryCount)
        {
            if (_pageIndex + 1 >= footer.PageCount)
            {
                Finish();
                return false;
            }

            _pageIndex++;
            var page = footer.Pages[_pageIndex];
            _pages.Load(_pageIndex, Span(page.Offset, page.Length));
            _entryIndex = 0;
        }

        var entry = _pages.GetEntry(_entryIndex);
        if (entry.BlockOffset != _nextBlockOffset)
        {
            SFileFormatException.Throw($"The block of series {entry.Key} is at {entry.BlockOffset}, not right after the previous block ({_nextBlockOffset})", _nextBlockOffset);
        }

        _pages.VerifyBlock(entry, Span(entry.BlockOffset, entry.BlockLength));
        _current = entry;
        _entryIndex++;
        _nextBlockOffset = entry.BlockOffset + entry.BlockLength;
        _points += entry.PointCount;
        _metadataBytes += entry.MetadataLength;
        SeriesRead++;
        return true;
    }

    /// <summary>Decodes the current series' points into caller buffers and checks them against the index entry.</summary>
    /// <param name="timestamps">Receives the timestamps; must hold <see cref="SFileIndexEntry.PointCount"/> points
    /// (<see cref="SFileStats.MaxPointCount"/> of the footer holds every series).</param>
    /// <param name="values">Receives the values; same room.</param>
    /// <returns>The number of points written.</returns>
    /// <exception cref="ArgumentException">A destination is too short.</exception>
    /// <exception cref="SFileFormatException">The block does not decode to the points its entry describes.</exception>
    public readonly int ReadPoints(Span<long> timestamps, Span<double> values)
    {
        if (SeriesRead == 0 || _done)
        {
            throw new InvalidOperationException("Call MoveNext first; there is no current series.");
        }

        SFileIndexPageDecoder.DecodeBlock(Codec, _current, Block, timestamps, values);
        return _current.PointCount;
    }

    /// <summary>Returns the page buffer to the pool.</summary>
    public void Dispose() => _pages?.Dispose();

    private void Finish()
    {
        _done = true;
        var footer = Layout.Footer;
        if (SeriesRead != footer.Stats.SeriesCount || _points != footer.Stats.PointCount || _metadataBytes != footer.Stats.MetadataBytes
            || _nextBlockOffset != footer.IndexOffset)
        {
            SFileFormatException.Throw($"The S-file's series ({SeriesRead}), points ({_points}) or metadata bytes ({_metadataBytes}) do not add up to its footer's", Layout.FooterOffset);
        }
    }

    private readonly ReadOnlySpan<byte> Span(long offset, int length) =>
        _source is null ? _file.Slice((int)offset, length) : _source.GetSpan(offset, length);
}
