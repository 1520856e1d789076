namespace Tailor.Query;

/// <summary>What <see cref="QueryResultJson"/> writes beyond the body of <c>tailor query --json</c>, and how often it flushes.</summary>
public sealed class QueryJsonOptions
{
    /// <summary>
    /// Also write the members a web page needs: each series' <c>context_id</c> (the context key as a string,
    /// since a 64-bit key does not fit a JavaScript number), the range (<c>from</c>, <c>to</c>) and the absent
    /// windows in Unix seconds (<c>absent_ranges</c>). Default false.
    /// </summary>
    public bool PageMembers { get; init; }

    /// <summary>
    /// Flush after every series, so a large result starts arriving before it is complete (an HTTP response).
    /// Default false: flush whenever 64 KiB are pending.
    /// </summary>
    public bool FlushEachSeries { get; init; }

    /// <summary>When set, the time it returns at the end is written as <c>total_seconds</c> (the query and the writing). Default null: not written.</summary>
    public Func<TimeSpan>? Elapsed { get; init; }
}
