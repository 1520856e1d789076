using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Tailor.Query;

/// <summary>
/// The <c>Tailor.Query</c> meter and activity source: queries by outcome, store reads and bytes, cache hits
/// and misses, points returned and query latency; one activity per query and one per window read.
/// </summary>
public static class QueryMetrics
{
    /// <summary>The meter and activity source name.</summary>
    public const string Name = "Tailor.Query";

    internal static readonly Meter Meter = new(Name, "1.0");
    internal static readonly ActivitySource ActivitySource = new(Name, "1.0");

    internal static readonly Counter<long> Queries = Meter.CreateCounter<long>("tailor.query.queries", "{query}", "Queries run, by outcome (ok, partial, failed).");
    internal static readonly Counter<long> Reads = Meter.CreateCounter<long>("tailor.query.reads", "{read}", "Store calls made by queries, by kind (manifest, tail, page, block).");
    internal static readonly Counter<long> Bytes = Meter.CreateCounter<long>("tailor.query.bytes", "By", "Bytes read from the store by queries.");
    internal static readonly Counter<long> CacheHits = Meter.CreateCounter<long>("tailor.query.cache.hits", "{item}", "Manifests, tails and index pages served by the cache.");
    internal static readonly Counter<long> CacheMisses = Meter.CreateCounter<long>("tailor.query.cache.misses", "{item}", "Manifests, tails and index pages read from the store.");
    internal static readonly Counter<long> Points = Meter.CreateCounter<long>("tailor.query.points", "{point}", "Points (or bucket rows) returned by queries.");
    internal static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("tailor.query.duration", "s", "Time from a query's start to its result.");
}
