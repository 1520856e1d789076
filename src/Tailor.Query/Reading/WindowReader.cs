using System.Buffers;
using System.Globalization;
using Tailor.Format.Series;
using Tailor.Query.Results;
using Tailor.Storage;

namespace Tailor.Query.Reading;

/// <summary>
/// Reads one (shard, window) for one query: the manifest (cached, with an expiry), then each part whose
/// key range the query needs: its tail (cached), the index pages that can hold the wanted keys (cached,
/// decoded), and the wanted blocks in as few coalesced range reads as the layout allows.
/// </summary>
/// <remarks>
/// A window is read from one manifest generation only: when a part the manifest names is gone, the
/// manifest is read again, and if its generation changed every chunk read so far is dropped and the
/// window is read again from the new generation.
/// </remarks>
internal sealed class WindowReader
{
    private const int MaxGenerationRestarts = 3;

    private readonly IObjectStore _store;
    private readonly QueryEngineOptions _options;
    private readonly QueryCache _cache;

    public WindowReader(IObjectStore store, QueryEngineOptions options, QueryCache cache)
    {
        _store = store;
        _options = options;
        _cache = cache;
    }

    public async Task<ShardWindowResult> ReadAsync(QueryContext context, ShardName shard, QueryWindow window, KeyRange range, bool listOnly, bool allowPartial, CancellationToken cancellationToken)
    {
        var manifestKey = ObjectKeys.Manifest(shard, window.Start);
        var unread = new List<UnreadObject>();
        ManifestDocument manifest;
        try
        {
            manifest = await GetManifestAsync(context, shard, window, manifestKey, fresh: false, cancellationToken).ConfigureAwait(false);
        }
        catch (QueryException e) when (allowPartial && e.Kind is QueryErrorKind.DamagedManifest or QueryErrorKind.Store)
        {
            unread.Add(new UnreadObject(shard, window, manifestKey, e.Kind, e.Message));
            return new ShardWindowResult(shard, null, 0, [], unread);
        }

        for (var restart = 0; ; restart++)
        {
            if (manifest.IsAbsent)
            {
                return new ShardWindowResult(shard, null, 0, [], unread);
            }

            var chunks = new List<SeriesChunk>();
            var parts = 0;
            ManifestDocument? changed = null;
            unread.Clear();
            foreach (var part in manifest.Parts)
            {
                if (!range.Overlaps(part.FirstSeries, part.LastSeries))
                {
                    continue;
                }

                parts++;
                var before = chunks.Count;
                try
                {
                    await ReadPartAsync(context, part, range, listOnly, chunks, cancellationToken).ConfigureAwait(false);
                }
                catch (SFileFormatException e)
                {
                    chunks.RemoveRange(before, chunks.Count - before);
                    var error = new QueryException(QueryErrorKind.DamagedPart, string.Create(CultureInfo.InvariantCulture,
                        $"Part {_store.Name}/{part.Key} ({shard} {window}, generation {manifest.Generation}) is damaged: {e.Message} (at byte {e.Offset}). Recompact the window (tailor compact --force) or read with partial results allowed."), part.Key, e);
                    if (!allowPartial)
                    {
                        throw error;
                    }

                    unread.Add(new UnreadObject(shard, window, part.Key, QueryErrorKind.DamagedPart, error.Message));
                }
                catch (ObjectStoreException e) when (e.Kind is ObjectStoreErrorKind.NotFound or ObjectStoreErrorKind.Conflict)
                {
                    chunks.RemoveRange(before, chunks.Count - before);
                    var fresh = await GetManifestAsync(context, shard, window, manifestKey, fresh: true, cancellationToken).ConfigureAwait(false);
                    if (fresh.Generation != manifest.Generation && restart < MaxGenerationRestarts)
                    {
                        changed = fresh; // recompacted meanwhile: read the whole window again from the new generation
                        break;
                    }

                    var error = new QueryException(QueryErrorKind.MissingObject, string.Create(CultureInfo.InvariantCulture,
                        $"Part {_store.Name}/{part.Key} ({shard} {window}, generation {manifest.Generation}) named by the manifest {manifestKey} is missing from the store. Recompact the window (tailor compact --force) or read with partial results allowed."), part.Key, e);
                    if (!allowPartial)
                    {
                        throw error;
                    }

                    unread.Add(new UnreadObject(shard, window, part.Key, QueryErrorKind.MissingObject, error.Message));
                }
                catch (ObjectStoreException e)
                {
                    chunks.RemoveRange(before, chunks.Count - before);
                    var error = new QueryException(QueryErrorKind.Store, $"Reading part {_store.Name}/{part.Key} ({shard} {window}) failed: {e.Message}", part.Key, e);
                    if (!allowPartial)
                    {
                        throw error;
                    }

                    unread.Add(new UnreadObject(shard, window, part.Key, QueryErrorKind.Store, error.Message));
                }
            }

            if (changed is null)
            {
                context.CountParts(parts);
                return new ShardWindowResult(shard, manifest.Generation, parts, chunks, [.. unread]);
            }

            foreach (var chunk in chunks)
            {
                context.Release(chunk.SizeInBytes);
            }

            manifest = changed;
        }
    }

    private async Task<ManifestDocument> GetManifestAsync(QueryContext context, ShardName shard, QueryWindow window, string key, bool fresh, CancellationToken cancellationToken)
    {
        var cacheKey = "m|" + key;
        var now = _options.TimeProvider.GetUtcNow();
        if (!fresh && _cache.TryGet<ManifestDocument>(cacheKey, now, out var cached))
        {
            context.CountHit();
            return cached;
        }

        context.CountMiss();
        ManifestDocument manifest;
        byte[] bytes;
        try
        {
            var stream = await _store.OpenReadAsync(key, 0, null, cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                bytes = await ReadBoundedAsync(stream, key, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.NotFound)
        {
            context.CountRead("manifest", 0);
            _cache.Set(cacheKey, ManifestDocument.Absent, ManifestDocument.Absent.SizeInBytes, now + _options.ManifestTtl);
            return ManifestDocument.Absent;
        }
        catch (ObjectStoreException e)
        {
            context.CountRead("manifest", 0);
            throw new QueryException(QueryErrorKind.Store, $"Reading the manifest {_store.Name}/{key} ({shard} {window}) failed: {e.Message}", key, e);
        }

        context.CountRead("manifest", bytes.Length);
        try
        {
            manifest = ManifestDocument.Parse(bytes, shard, window.Start);
        }
        catch (FormatException e)
        {
            throw new QueryException(QueryErrorKind.DamagedManifest, $"The manifest {_store.Name}/{key} ({shard} {window}) is not readable: {e.Message}. Recompact the window (tailor compact --force).", key, e);
        }

        _cache.Set(cacheKey, manifest, manifest.SizeInBytes, now + _options.ManifestTtl);
        return manifest;
    }

    private async Task<byte[]> ReadBoundedAsync(Stream stream, string key, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            int n;
            while ((n = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + n > _options.MaxManifestBytes)
                {
                    throw new QueryException(QueryErrorKind.DamagedManifest, $"The manifest {_store.Name}/{key} is larger than MaxManifestBytes ({_options.MaxManifestBytes:N0} bytes).", key);
                }

                buffer.Write(chunk, 0, n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }

    private async Task ReadPartAsync(QueryContext context, ManifestPart part, KeyRange range, bool listOnly, List<SeriesChunk> chunks, CancellationToken cancellationToken)
    {
        // Parts are immutable per generation (their keys carry it), so the tail and pages of a key never change.
        var partId = string.Create(CultureInfo.InvariantCulture, $"{part.Key}|{part.Size}");
        byte[]? tailBytes = null;
        long tailOffset = 0;
        var tailLength = 0;
        try
        {
            if (!_cache.TryGet<PartTail>("t|" + partId, default, out var tail))
            {
                context.CountMiss();
                tailLength = (int)Math.Min(part.Size, _options.TailReadBytes);
                tailOffset = part.Size - tailLength;
                context.Reserve(tailLength);
                tailBytes = ArrayPool<byte>.Shared.Rent(tailLength);
                await ReadExactlyAsync(context, "tail", part, tailOffset, tailBytes.AsMemory(0, tailLength), cancellationToken).ConfigureAwait(false);
                var layout = SFileLayout.Parse(tailBytes.AsSpan(0, tailLength), part.Size, out var needed);
                if (layout is null)
                {
                    // A footer larger than the first read: one more read of exactly the footer and trailer.
                    ArrayPool<byte>.Shared.Return(tailBytes);
                    tailBytes = null;
                    context.Release(tailLength);
                    tailLength = needed;
                    tailOffset = part.Size - needed;
                    context.Reserve(tailLength);
                    tailBytes = ArrayPool<byte>.Shared.Rent(tailLength);
                    await ReadExactlyAsync(context, "tail", part, tailOffset, tailBytes.AsMemory(0, tailLength), cancellationToken).ConfigureAwait(false);
                    layout = SFileLayout.Parse(tailBytes.AsSpan(0, tailLength), part.Size, out _)
                        ?? throw new SFileFormatException("The S-file's footer is longer than its trailer said", tailOffset);
                }

                if (!_options.Codecs.TryGet(layout.Footer.CodecId, out var codec))
                {
                    throw new SFileFormatException($"The S-file's codec id {layout.Footer.CodecId} is not registered", layout.FooterOffset + 6);
                }

                tail = new PartTail(layout, codec);
                _cache.Set("t|" + partId, tail, tail.SizeInBytes);
            }
            else
            {
                context.CountHit();
            }

            var footer = tail.Layout.Footer;
            if (footer.PageCount == 0 || range.High < footer.Stats.FirstKey || range.Low > footer.Stats.LastKey)
            {
                return;
            }

            var firstPage = range.Low <= footer.Stats.FirstKey ? 0 : footer.FindPage(range.Low);
            var lastPage = range.High >= footer.Stats.LastKey ? footer.PageCount - 1 : footer.FindPage(range.High);
            var pages = await GetPagesAsync(context, part, partId, footer, firstPage, lastPage, tailBytes, tailOffset, tailLength, cancellationToken).ConfigureAwait(false);

            var wanted = new List<(SFileIndexEntry Entry, SFileIndexPageContents Page, int Index)>();
            foreach (var page in pages)
            {
                var entries = page.Entries;
                for (var i = page.LowerBound(range.Low); i < entries.Length && entries[i].Key <= range.High; i++)
                {
                    if (range.Wants(entries[i].Key) && (listOnly || entries[i].Overlaps(range.From, range.To)))
                    {
                        wanted.Add((entries[i], page, i));
                    }
                }
            }

            if (listOnly)
            {
                foreach (var (entry, page, index) in wanted)
                {
                    context.Reserve(entry.MetadataLength + 64L);
                    chunks.Add(new SeriesChunk(entry.Key, page.GetMetadata(index).ToArray(), [], [], entry.PointCount, entry.MinTimestamp, entry.MaxTimestamp));
                }

                return;
            }

            await ReadBlocksAsync(context, part, tail, wanted, range, chunks, tailBytes, tailOffset, tailLength, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (tailBytes is not null)
            {
                ArrayPool<byte>.Shared.Return(tailBytes);
                context.Release(tailLength);
            }
        }
    }

    private async Task<SFileIndexPageContents[]> GetPagesAsync(QueryContext context, ManifestPart part, string partId, SFileFooter footer, int first, int last,
        byte[]? tailBytes, long tailOffset, int tailLength, CancellationToken cancellationToken)
    {
        var pages = new SFileIndexPageContents[last - first + 1];
        var missingFirst = -1;
        var missingLast = -1;
        for (var p = first; p <= last; p++)
        {
            if (_cache.TryGet<SFileIndexPageContents>(PageKey(partId, p), default, out var cached))
            {
                context.CountHit();
                pages[p - first] = cached;
                continue;
            }

            context.CountMiss();
            var dir = footer.Pages[p];
            if (tailBytes is not null && dir.Offset >= tailOffset && dir.Offset + dir.Length <= tailOffset + tailLength)
            {
                pages[p - first] = Cache(partId, SFileIndexPageContents.Decode(footer, p, tailBytes.AsSpan((int)(dir.Offset - tailOffset), dir.Length)));
                continue;
            }

            missingFirst = missingFirst < 0 ? p : missingFirst;
            missingLast = p;
        }

        if (missingFirst < 0)
        {
            return pages;
        }

        // Index pages lie back to back: the ones not cached are fetched in one range read.
        var start = footer.Pages[missingFirst].Offset;
        var end = footer.Pages[missingLast].Offset + footer.Pages[missingLast].Length;
        var length = checked((int)(end - start));
        context.Reserve(length);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            await ReadExactlyAsync(context, "page", part, start, buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            for (var p = missingFirst; p <= missingLast; p++)
            {
                if (pages[p - first] is null)
                {
                    var dir = footer.Pages[p];
                    pages[p - first] = Cache(partId, SFileIndexPageContents.Decode(footer, p, buffer.AsSpan((int)(dir.Offset - start), dir.Length)));
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            context.Release(length);
        }

        return pages;
    }

    private SFileIndexPageContents Cache(string partId, SFileIndexPageContents page)
    {
        _cache.Set(PageKey(partId, page.PageIndex), page, page.SizeInBytes);
        return page;
    }

    private static string PageKey(string partId, int page) => string.Create(CultureInfo.InvariantCulture, $"p|{partId}|{page}");

    private async Task ReadBlocksAsync(QueryContext context, ManifestPart part, PartTail tail, List<(SFileIndexEntry Entry, SFileIndexPageContents Page, int Index)> wanted,
        KeyRange range, List<SeriesChunk> chunks, byte[]? tailBytes, long tailOffset, int tailLength, CancellationToken cancellationToken)
    {
        if (wanted.Count == 0)
        {
            return;
        }

        var maxPoints = 0;
        foreach (var w in wanted)
        {
            maxPoints = Math.Max(maxPoints, w.Entry.PointCount);
        }

        var decodeBytes = maxPoints * 16L;
        context.Reserve(decodeBytes);
        var timestamps = ArrayPool<long>.Shared.Rent(maxPoints);
        var values = ArrayPool<double>.Shared.Rent(maxPoints);
        try
        {
            var i = 0;
            while (i < wanted.Count)
            {
                // A run: wanted blocks whose gaps are small enough to read over, up to the largest read.
                var runStart = wanted[i].Entry.BlockOffset;
                var runEnd = runStart + wanted[i].Entry.BlockLength;
                var j = i + 1;
                while (j < wanted.Count)
                {
                    var next = wanted[j].Entry;
                    var end = next.BlockOffset + next.BlockLength;
                    if (next.BlockOffset - runEnd > _options.CoalesceGapBytes || end - runStart > _options.MaxReadBytes)
                    {
                        break;
                    }

                    runEnd = end;
                    j++;
                }

                ReadOnlyMemory<byte> run;
                byte[]? buffer = null;
                var length = checked((int)(runEnd - runStart));
                if (tailBytes is not null && runStart >= tailOffset && runEnd <= tailOffset + tailLength)
                {
                    run = tailBytes.AsMemory((int)(runStart - tailOffset), length); // a small part: its blocks came with the tail
                }
                else
                {
                    context.Reserve(length);
                    buffer = ArrayPool<byte>.Shared.Rent(length);
                    run = buffer.AsMemory(0, length);
                }

                try
                {
                    if (buffer is not null)
                    {
                        await ReadExactlyAsync(context, "block", part, runStart, buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                    }

                    for (var k = i; k < j; k++)
                    {
                        var (entry, page, index) = wanted[k];
                        var block = run.Span.Slice((int)(entry.BlockOffset - runStart), entry.BlockLength);
                        var n = SFileBlockDecoder.Decode(tail.Codec, entry, block, timestamps, values);
                        context.CountDecoded(n);
                        var ts = timestamps.AsSpan(0, n);
                        var lo = LowerBound(ts, range.From);
                        var hi = LowerBound(ts, range.To);
                        if (hi <= lo)
                        {
                            continue;
                        }

                        var count = hi - lo;
                        var metadata = page.GetMetadata(index).ToArray();
                        context.Reserve((count * 16L) + metadata.Length + 64);
                        chunks.Add(new SeriesChunk(entry.Key, metadata, ts[lo..hi].ToArray(), values.AsSpan(lo, count).ToArray(), count, timestamps[lo], timestamps[hi - 1]));
                    }
                }
                finally
                {
                    if (buffer is not null)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        context.Release(length);
                    }
                }

                i = j;
            }
        }
        finally
        {
            ArrayPool<long>.Shared.Return(timestamps);
            ArrayPool<double>.Shared.Return(values);
            context.Release(decodeBytes);
        }
    }

    private async Task ReadExactlyAsync(QueryContext context, string kind, ManifestPart part, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        int read;
        try
        {
            read = await _store.ReadAsync(part.Key, offset, destination, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            context.CountRead(kind, destination.Length);
        }

        if (read != destination.Length)
        {
            throw new SFileFormatException(string.Create(CultureInfo.InvariantCulture,
                $"The part ended early: {read} of {destination.Length} bytes at offset {offset} could be read (the manifest gives {part.Size} bytes)"), offset + read);
        }
    }

    // A series' timestamps are unique and ascending (the duplicate rule), so a binary search's insertion point is the lower bound.
    private static int LowerBound(ReadOnlySpan<long> sorted, long value)
    {
        var i = sorted.BinarySearch(value);
        return i >= 0 ? i : ~i;
    }
}
