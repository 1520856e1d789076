using Tailor.Format.Series;

namespace Tailor.Query;

/// <summary>One series found by <see cref="QueryEngine.ListSeriesAsync"/>: its key, metadata and how many points it has in the range's windows.</summary>
/// <param name="Key">The series key.</param>
/// <param name="Metadata">The metadata of the latest window that holds the series.</param>
/// <param name="Points">Points over the windows read (whole windows: the index does not cut them at the range's ends).</param>
/// <param name="MinTimestamp">The earliest timestamp over those windows.</param>
/// <param name="MaxTimestamp">The latest timestamp over those windows.</param>
public sealed record SeriesInfo(SeriesKey Key, ReadOnlyMemory<byte> Metadata, long Points, long MinTimestamp, long MaxTimestamp);
