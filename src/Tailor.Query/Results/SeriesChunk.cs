using Tailor.Format.Series;

namespace Tailor.Query.Results;

/// <summary>
/// The points of one series in one window from one shard, cut to the query's range (or, for a listing,
/// only the index entry's counts): exact-size columns, in time order.
/// </summary>
internal sealed class SeriesChunk(SeriesKey key, byte[] metadata, long[] timestamps, double[] values, long points, long minTimestamp, long maxTimestamp)
{
    public SeriesKey Key { get; } = key;

    public byte[] Metadata { get; } = metadata;

    public long[] Timestamps { get; } = timestamps;

    public double[] Values { get; } = values;

    /// <summary>The index entry's point count (whole window, for listings).</summary>
    public long Points { get; } = points;

    public long MinTimestamp { get; } = minTimestamp;

    public long MaxTimestamp { get; } = maxTimestamp;

    /// <summary>The bytes the columns hold.</summary>
    public long SizeInBytes => (Timestamps.Length * 16L) + Metadata.Length + 64;
}
