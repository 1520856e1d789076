using System.Runtime.CompilerServices;

namespace Tailor.Query;

/// <summary>
/// The result of one query: its series (streamed one at a time, as columns), the windows it read and the
/// generation of each, the windows that had no manifest, anything a partial query could not read, and
/// what it cost.
/// </summary>
/// <remarks>
/// Every read is done when <see cref="QueryEngine.QueryAsync"/> returns, so <see cref="Stats"/>,
/// <see cref="AbsentWindows"/> and <see cref="Unread"/> are final; the series are then handed out in key
/// order by <see cref="ReadSeriesAsync"/>, and the memory of each is released once the enumeration moves
/// past it. <see cref="Dispose"/> releases what is left.
/// </remarks>
public sealed class QueryResult : IDisposable
{
    private readonly List<QuerySeries?> _series;

    internal QueryResult(QueryRequest request, IReadOnlyList<QueryWindow> windows, IReadOnlyList<QueryWindow> absent,
        IReadOnlyList<WindowRead> read, IReadOnlyList<UnreadObject> unread, List<QuerySeries?> series, QueryStats stats)
    {
        Request = request;
        Windows = windows;
        AbsentWindows = absent;
        WindowsRead = read;
        Unread = unread;
        _series = series;
        SeriesCount = series.Count;
        Stats = stats;
    }

    /// <summary>The request this result answers.</summary>
    public QueryRequest Request { get; }

    /// <summary>Every window the range touches, in time order.</summary>
    public IReadOnlyList<QueryWindow> Windows { get; }

    /// <summary>The windows of the range in which none of the org's shards has a manifest (not compacted yet, or no data), in time order.</summary>
    public IReadOnlyList<QueryWindow> AbsentWindows { get; }

    /// <summary>Every (shard, window) with a manifest that the query read, with the generation it read.</summary>
    public IReadOnlyList<WindowRead> WindowsRead { get; }

    /// <summary>Objects a partial query (<see cref="QueryRequest.AllowPartial"/>) could not read; empty otherwise.</summary>
    public IReadOnlyList<UnreadObject> Unread { get; }

    /// <summary>Whether some object could not be read, so points may be missing.</summary>
    public bool IsPartial => Unread.Count > 0;

    /// <summary>The number of series in the result.</summary>
    public int SeriesCount { get; }

    /// <summary>What the query cost.</summary>
    public QueryStats Stats { get; }

    /// <summary>The series in key order (by context key), one at a time. Can be enumerated once.</summary>
    /// <param name="cancellationToken">Stops the enumeration.</param>
    /// <returns>The series; each is valid until the enumeration moves on.</returns>
    /// <exception cref="InvalidOperationException">The series were enumerated already, or the result was disposed.</exception>
    public async IAsyncEnumerable<QuerySeries> ReadSeriesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.CompletedTask.ConfigureAwait(false);
        for (var i = 0; i < _series.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var series = _series[i] ?? throw new InvalidOperationException("The series of a query result can be enumerated once, and not after it is disposed.");
            _series[i] = null;
            yield return series;
        }
    }

    /// <summary>Releases the series not yet handed out.</summary>
    public void Dispose()
    {
        for (var i = 0; i < _series.Count; i++)
        {
            _series[i] = null;
        }
    }
}
