using System.Globalization;

namespace Tailor.Query.Reading;

/// <summary>One query's counters, memory budget and points budget; shared by its concurrent window reads.</summary>
internal sealed class QueryContext
{
    private readonly long _maxMemory;
    private readonly long _maxPoints;
    private long _memory;
    private long _peakMemory;
    private long _points;
    private long _reads;
    private long _manifestReads;
    private long _blockReads;
    private long _bytes;
    private long _hits;
    private long _misses;
    private long _decoded;
    private int _parts;

    public QueryContext(long maxMemory, long maxPoints)
    {
        _maxMemory = maxMemory;
        _maxPoints = maxPoints;
    }

    public long PeakMemory => Interlocked.Read(ref _peakMemory);

    public long Points => Interlocked.Read(ref _points);

    /// <summary>Counts <paramref name="bytes"/> against the memory limit before they are allocated.</summary>
    /// <exception cref="QueryException">The limit would be passed.</exception>
    public void Reserve(long bytes)
    {
        var now = Interlocked.Add(ref _memory, bytes);
        if (now > _maxMemory)
        {
            Interlocked.Add(ref _memory, -bytes);
            throw new QueryException(QueryErrorKind.MemoryLimit, string.Create(CultureInfo.InvariantCulture,
                $"The query needs more than its memory limit of {_maxMemory:N0} bytes ({now - bytes:N0} held, {bytes:N0} more wanted): narrow the range, name fewer contexts, use a step, or raise MaxMemoryBytes."));
        }

        long peak;
        while (now > (peak = Interlocked.Read(ref _peakMemory)) && Interlocked.CompareExchange(ref _peakMemory, now, peak) != peak)
        {
        }
    }

    public void Release(long bytes) => Interlocked.Add(ref _memory, -bytes);

    /// <summary>Counts points (or rows) returned against the points limit.</summary>
    /// <exception cref="QueryException">The limit would be passed.</exception>
    public void AddPoints(long points)
    {
        var now = Interlocked.Add(ref _points, points);
        if (now > _maxPoints)
        {
            throw new QueryException(QueryErrorKind.PointsLimit, string.Create(CultureInfo.InvariantCulture,
                $"The query returns more than its limit of {_maxPoints:N0} points: narrow the range, name fewer contexts, use a larger step, or raise MaxPoints."));
        }
    }

    public void CountRead(string kind, long bytes)
    {
        Interlocked.Increment(ref _reads);
        Interlocked.Add(ref _bytes, bytes);
        if (kind == "manifest")
        {
            Interlocked.Increment(ref _manifestReads);
        }
        else if (kind == "block")
        {
            Interlocked.Increment(ref _blockReads);
        }

        QueryMetrics.Reads.Add(1, new KeyValuePair<string, object?>("kind", kind));
        QueryMetrics.Bytes.Add(bytes);
    }

    public void CountHit()
    {
        Interlocked.Increment(ref _hits);
        QueryMetrics.CacheHits.Add(1);
    }

    public void CountMiss()
    {
        Interlocked.Increment(ref _misses);
        QueryMetrics.CacheMisses.Add(1);
    }

    public void CountDecoded(long points) => Interlocked.Add(ref _decoded, points);

    public void CountParts(int parts) => Interlocked.Add(ref _parts, parts);

    public QueryStats Stats(int windows, long series, TimeSpan elapsed) => new()
    {
        Windows = windows,
        Parts = Volatile.Read(ref _parts),
        Reads = Interlocked.Read(ref _reads),
        ManifestReads = Interlocked.Read(ref _manifestReads),
        BlockReads = Interlocked.Read(ref _blockReads),
        Bytes = Interlocked.Read(ref _bytes),
        CacheHits = Interlocked.Read(ref _hits),
        CacheMisses = Interlocked.Read(ref _misses),
        Series = series,
        PointsDecoded = Interlocked.Read(ref _decoded),
        PointsReturned = Interlocked.Read(ref _points),
        PeakMemoryBytes = PeakMemory,
        Elapsed = elapsed,
    };
}
