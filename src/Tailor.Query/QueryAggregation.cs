namespace Tailor.Query;

/// <summary>How the points of one step bucket of one series become one value.</summary>
/// <remarks>
/// Buckets are <c>[from + i·step, from + (i+1)·step)</c>, the last one cut at the query's end; a bucket
/// without points has no row. NaN takes part as IEEE arithmetic says (a NaN in a bucket makes its sum and
/// average NaN; <see cref="Min"/> and <see cref="Max"/> return NaN when any point is NaN).
/// </remarks>
public enum QueryAggregation
{
    /// <summary>The smallest value (NaN if any value is NaN).</summary>
    Min,

    /// <summary>The largest value (NaN if any value is NaN).</summary>
    Max,

    /// <summary>The sum of the values, added in time order.</summary>
    Sum,

    /// <summary>The number of points.</summary>
    Count,

    /// <summary>The sum divided by the count.</summary>
    Avg,

    /// <summary>The value of the earliest point.</summary>
    First,

    /// <summary>The value of the latest point.</summary>
    Last,

    /// <summary>
    /// The per-second increase of a counter: for each point with a predecessor inside the query range, the
    /// increase since that predecessor (the difference, or the point's own value when the counter went down,
    /// since a restart counts again from zero as docs/workload.md defines it), summed over the points of the
    /// bucket and divided by the bucket's length in seconds.
    /// </summary>
    Rate,
}
