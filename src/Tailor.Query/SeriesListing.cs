namespace Tailor.Query;

/// <summary>The series of one org and metric in a range, from the index alone (no block is read).</summary>
/// <param name="Series">The series, in key order.</param>
/// <param name="AbsentWindows">The windows of the range with no manifest in any of the org's shards.</param>
/// <param name="WindowsRead">The (shard, window) manifests read, with their generations.</param>
/// <param name="Stats">What the listing cost.</param>
public sealed record SeriesListing(IReadOnlyList<SeriesInfo> Series, IReadOnlyList<QueryWindow> AbsentWindows, IReadOnlyList<WindowRead> WindowsRead, QueryStats Stats);
