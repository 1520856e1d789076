namespace Tailor.Query;

/// <summary>
/// One query: the series of one org and metric (all contexts, or the ones named) over a half-open time
/// range, as raw points or rolled up into step buckets.
/// </summary>
/// <remarks>
/// Times are Unix epoch seconds, as in S-files: a point is in the range when
/// <c><see cref="From"/> ≤ timestamp &lt; <see cref="To"/></c>. The range may have any length; the
/// engine reads every window it touches. <see cref="QueryEngine.QueryAsync"/> checks the request and
/// fails with <see cref="QueryErrorKind.InvalidRequest"/> naming the member at fault.
/// </remarks>
public sealed record QueryRequest
{
    /// <summary>The org.</summary>
    public required uint OrgId { get; init; }

    /// <summary>The metric.</summary>
    public required ulong MetricId { get; init; }

    /// <summary>The contexts wanted; <see langword="null"/> (the default) or empty for every context of the metric.</summary>
    public IReadOnlyList<ulong>? Contexts { get; init; }

    /// <summary>The first second of the range (inclusive), Unix epoch seconds.</summary>
    public required long From { get; init; }

    /// <summary>The end of the range (exclusive), Unix epoch seconds; must be after <see cref="From"/>.</summary>
    public required long To { get; init; }

    /// <summary>
    /// The bucket length of a rolled-up query (a whole number of seconds, at least one); <see langword="null"/>
    /// (the default) returns raw points. Buckets start at <see cref="From"/>; the last one ends at <see cref="To"/>.
    /// </summary>
    public TimeSpan? Step { get; init; }

    /// <summary>
    /// The aggregations of a rolled-up query, one column each, in this order. Default empty: with a
    /// <see cref="Step"/> that means <see cref="QueryAggregation.Avg"/> alone; without a step it must be empty.
    /// </summary>
    public IReadOnlyList<QueryAggregation> Aggregations { get; init; } = [];

    /// <summary>
    /// Whether a part that cannot be read (missing object, damage) ends the query with an error
    /// (<see langword="false"/>, the default) or is listed in <see cref="QueryResult.Unread"/> while the rest is
    /// returned.
    /// </summary>
    public bool AllowPartial { get; init; }

    /// <summary>How long the query may take; <see langword="null"/> (the default) uses <see cref="QueryEngineOptions.Timeout"/>.</summary>
    public TimeSpan? Timeout { get; init; }
}
