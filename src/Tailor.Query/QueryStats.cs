namespace Tailor.Query;

/// <summary>What one query cost.</summary>
public sealed record QueryStats
{
    /// <summary>The windows the range touches.</summary>
    public int Windows { get; init; }

    /// <summary>The parts (S-files) whose key range the query needed, over all windows and shards.</summary>
    public int Parts { get; init; }

    /// <summary>Calls to the store: manifest gets and range reads of S-file tails, index pages and blocks.</summary>
    public long Reads { get; init; }

    /// <summary>Of <see cref="Reads"/>, the manifest gets (found or not).</summary>
    public long ManifestReads { get; init; }

    /// <summary>Of <see cref="Reads"/>, the range reads of blocks (coalesced: one read serves adjacent blocks).</summary>
    public long BlockReads { get; init; }

    /// <summary>Bytes read from the store.</summary>
    public long Bytes { get; init; }

    /// <summary>Manifests, tails and index pages served by the cache.</summary>
    public long CacheHits { get; init; }

    /// <summary>Manifests, tails and index pages read from the store.</summary>
    public long CacheMisses { get; init; }

    /// <summary>Series returned.</summary>
    public long Series { get; init; }

    /// <summary>Points decoded from blocks (whole blocks, before the range is cut out).</summary>
    public long PointsDecoded { get; init; }

    /// <summary>Points (or bucket rows) returned.</summary>
    public long PointsReturned { get; init; }

    /// <summary>The most bytes the query held at once (read buffers and columns), as counted against <see cref="QueryEngineOptions.MaxMemoryBytes"/>.</summary>
    public long PeakMemoryBytes { get; init; }

    /// <summary>Wall time from the call to the result (reads and decoding; not the caller's consumption of the series).</summary>
    public TimeSpan Elapsed { get; init; }
}
