namespace Tailor.Format.Series;

/// <summary>
/// One index page of an S-file, checked and decoded into memory of its own: its entries and their
/// metadata, detached from any reader so that a cache can keep it and many readers can share it.
/// </summary>
/// <remarks>
/// Immutable and thread-safe once decoded. It holds <see cref="EntryCount"/> entries (60 bytes each as
/// structs) and the page's metadata heap; <see cref="SizeInBytes"/> is what a cache should charge for it.
/// </remarks>
public sealed class SFileIndexPageContents
{
    private readonly SFileIndexEntry[] _entries;
    private readonly int[] _metadataStarts;
    private readonly byte[] _metadata;

    private SFileIndexPageContents(int pageIndex, SFileIndexEntry[] entries, int[] metadataStarts, byte[] metadata)
    {
        PageIndex = pageIndex;
        _entries = entries;
        _metadataStarts = metadataStarts;
        _metadata = metadata;
    }

    /// <summary>The page's position in the file's page directory.</summary>
    public int PageIndex { get; }

    /// <summary>The number of entries (series) of the page.</summary>
    public int EntryCount => _entries.Length;

    /// <summary>The page's entries in key order.</summary>
    public ReadOnlySpan<SFileIndexEntry> Entries => _entries;

    /// <summary>The bytes this object holds (entries and metadata), for a cache's budget.</summary>
    public long SizeInBytes => (_entries.Length * 80L) + (_metadataStarts.Length * 4L) + _metadata.Length + 64;

    /// <summary>The metadata of entry <paramref name="index"/>.</summary>
    /// <param name="index">The entry's position in the page.</param>
    /// <returns>The metadata bytes; valid as long as this object.</returns>
    public ReadOnlyMemory<byte> GetMetadata(int index) => _metadata.AsMemory(_metadataStarts[index], _entries[index].MetadataLength);

    /// <summary>The position of the first entry whose key is not less than <paramref name="key"/>.</summary>
    /// <param name="key">A series key.</param>
    /// <returns>0 … <see cref="EntryCount"/> (the count when every key is smaller).</returns>
    public int LowerBound(in SeriesKey key)
    {
        int lo = 0, hi = _entries.Length;
        while (lo < hi)
        {
            var mid = (int)((uint)(lo + hi) >> 1);
            if (_entries[mid].Key < key)
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

    /// <summary>Checks and decodes index page <paramref name="pageIndex"/> from its exact bytes.</summary>
    /// <param name="footer">The file's footer (gives the page's place, count and the file's bounds).</param>
    /// <param name="pageIndex">The page's position in the page directory.</param>
    /// <param name="page">Exactly the page's bytes (<see cref="SFileIndexPage.Length"/> of them, from its offset).</param>
    /// <returns>The decoded page.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The page index is outside the directory.</exception>
    /// <exception cref="SFileFormatException">The page is damaged or inconsistent with its footer.</exception>
    public static SFileIndexPageContents Decode(SFileFooter footer, int pageIndex, ReadOnlySpan<byte> page)
    {
        ArgumentNullException.ThrowIfNull(footer);
        ArgumentOutOfRangeException.ThrowIfNegative(pageIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(pageIndex, footer.PageCount);
        using var decoder = new SFileIndexPageDecoder(footer);
        decoder.Load(pageIndex, page);
        var count = decoder.EntryCount;
        var entries = new SFileIndexEntry[count];
        var starts = new int[count];
        var total = 0;
        for (var i = 0; i < count; i++)
        {
            entries[i] = decoder.GetEntry(i);
            starts[i] = total;
            total += entries[i].MetadataLength;
        }

        var metadata = total == 0 ? [] : new byte[total];
        for (var i = 0; i < count; i++)
        {
            decoder.GetMetadata(entries[i]).CopyTo(metadata.AsSpan(starts[i]));
        }

        return new SFileIndexPageContents(pageIndex, entries, starts, metadata);
    }
}
