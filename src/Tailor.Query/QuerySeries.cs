using Tailor.Format.Series;

namespace Tailor.Query;

/// <summary>
/// One series of a query's result, as columns: timestamps and values for a raw query, bucket starts and
/// one column per aggregation for a stepped one. No object per point.
/// </summary>
/// <remarks>
/// The columns are valid while the <see cref="QueryResult"/> enumeration that produced this series has not
/// moved on (the engine may reuse their memory for the next series); copy what must outlive that.
/// </remarks>
public sealed class QuerySeries
{
    private readonly ReadOnlyMemory<double>[] _columns;
    private readonly IReadOnlyList<QueryAggregation> _aggregations;

    internal QuerySeries(SeriesKey key, ReadOnlyMemory<byte> metadata, ReadOnlyMemory<long> timestamps, ReadOnlyMemory<double> values,
        IReadOnlyList<QueryAggregation> aggregations, ReadOnlyMemory<double>[] columns)
    {
        Key = key;
        Metadata = metadata;
        Timestamps = timestamps;
        Values = values;
        _aggregations = aggregations;
        _columns = columns;
    }

    /// <summary>The series key (org, metric, context).</summary>
    public SeriesKey Key { get; }

    /// <summary>The context key.</summary>
    public ulong ContextKey => Key.ContextKey;

    /// <summary>The series' metadata as stored in the latest window of the range that holds the series.</summary>
    public ReadOnlyMemory<byte> Metadata { get; }

    /// <summary>The number of rows: points of a raw query, non-empty buckets of a stepped one.</summary>
    public int Count => Timestamps.Length;

    /// <summary>The timestamps (Unix seconds) in increasing order: of the points, or the starts of the buckets.</summary>
    public ReadOnlyMemory<long> Timestamps { get; }

    /// <summary>The values of a raw query, one per timestamp; empty for a stepped query (see <see cref="GetColumn"/>).</summary>
    public ReadOnlyMemory<double> Values { get; }

    /// <summary>The aggregations of a stepped query, in the request's order; empty for a raw query.</summary>
    public IReadOnlyList<QueryAggregation> Aggregations => _aggregations;

    /// <summary>The column of one aggregation of a stepped query: one value per bucket of <see cref="Timestamps"/>.</summary>
    /// <param name="aggregation">An aggregation the request named.</param>
    /// <returns>The column.</returns>
    /// <exception cref="ArgumentException">The request did not name this aggregation.</exception>
    public ReadOnlyMemory<double> GetColumn(QueryAggregation aggregation)
    {
        for (var i = 0; i < _aggregations.Count; i++)
        {
            if (_aggregations[i] == aggregation)
            {
                return _columns[i];
            }
        }

        throw new ArgumentException($"The query did not ask for {QueryAggregations.Name(aggregation)} (it has {(Aggregations.Count == 0 ? "raw points" : string.Join(", ", _aggregations.Select(QueryAggregations.Name)))}).", nameof(aggregation));
    }
}
