using Tailor.Format.Series;
using Tailor.Query.Reading;

namespace Tailor.Query.Results;

/// <summary>
/// Takes each window's shard results as they finish, in any order, and folds them into the series
/// accumulators strictly in window order, so every series sees its points in time order. Windows that
/// finished early wait (their chunks counted against the memory limit); the engine starts a window only
/// while few enough are waiting.
/// </summary>
internal sealed class WindowFolder
{
    private readonly QueryContext _context;
    private readonly IReadOnlyList<QueryWindow> _windows;
    private readonly Func<SeriesKey, SeriesAccumulator> _create;
    private readonly ShardWindowResult[]?[] _pending;
    private readonly SemaphoreSlim _lookahead;
    private readonly Lock _lock = new();
    private readonly Dictionary<SeriesKey, SeriesAccumulator> _series = [];
    private int _next;

    public WindowFolder(QueryContext context, IReadOnlyList<QueryWindow> windows, Func<SeriesKey, SeriesAccumulator> create, SemaphoreSlim lookahead)
    {
        _context = context;
        _windows = windows;
        _create = create;
        _lookahead = lookahead;
        _pending = new ShardWindowResult[]?[windows.Count];
    }

    public List<QueryWindow> Absent { get; } = [];

    public List<WindowRead> Read { get; } = [];

    public List<UnreadObject> Unread { get; } = [];

    public IEnumerable<SeriesAccumulator> Series => _series.Values;

    public void Complete(int index, ShardWindowResult[] results)
    {
        lock (_lock)
        {
            _pending[index] = results;
            while (_next < _pending.Length && _pending[_next] is { } ready)
            {
                _pending[_next] = null;
                Fold(_windows[_next], ready);
                _next++;
                _lookahead.Release();
            }
        }
    }

    private void Fold(QueryWindow window, ShardWindowResult[] results)
    {
        var present = 0;
        var withChunks = 0;
        foreach (var result in results)
        {
            Unread.AddRange(result.Unread);
            if (!result.IsAbsent)
            {
                present++;
                Read.Add(new WindowRead(result.Shard, window, result.Generation!, result.Parts));
            }

            if (result.Chunks.Count > 0)
            {
                withChunks++;
            }
        }

        if (present == 0 && !results.Any(r => r.Unread.Count > 0))
        {
            Absent.Add(window);
        }

        if (withChunks <= 1)
        {
            foreach (var result in results)
            {
                foreach (var chunk in result.Chunks)
                {
                    Accumulate(chunk.Key, chunk.Metadata, chunk.Timestamps, chunk.Values);
                    _context.Release(chunk.SizeInBytes);
                }
            }

            return;
        }

        // An org that moved shards during the window has series in both: merge their points by time
        // (a timestamp in both keeps the value with the larger bit pattern, the store's tie rule) and take
        // the metadata of the later shard in the candidate order.
        var byKey = new SortedDictionary<SeriesKey, List<SeriesChunk>>();
        foreach (var result in results)
        {
            foreach (var chunk in result.Chunks)
            {
                if (!byKey.TryGetValue(chunk.Key, out var list))
                {
                    byKey[chunk.Key] = list = [];
                }

                list.Add(chunk);
            }
        }

        foreach (var (key, list) in byKey)
        {
            if (list.Count == 1)
            {
                Accumulate(key, list[0].Metadata, list[0].Timestamps, list[0].Values);
            }
            else
            {
                var (ts, vs) = Merge(list);
                Accumulate(key, list[^1].Metadata, ts, vs);
            }

            foreach (var chunk in list)
            {
                _context.Release(chunk.SizeInBytes);
            }
        }
    }

    internal static (long[] Timestamps, double[] Values) Merge(List<SeriesChunk> chunks)
    {
        var ts = new List<long>();
        var vs = new List<double>();
        var positions = new int[chunks.Count];
        while (true)
        {
            var best = -1;
            for (var c = 0; c < chunks.Count; c++)
            {
                if (positions[c] < chunks[c].Timestamps.Length && (best < 0 || chunks[c].Timestamps[positions[c]] < chunks[best].Timestamps[positions[best]]))
                {
                    best = c;
                }
            }

            if (best < 0)
            {
                return ([.. ts], [.. vs]);
            }

            var t = chunks[best].Timestamps[positions[best]];
            var value = chunks[best].Values[positions[best]];
            for (var c = 0; c < chunks.Count; c++)
            {
                if (positions[c] < chunks[c].Timestamps.Length && chunks[c].Timestamps[positions[c]] == t)
                {
                    var other = chunks[c].Values[positions[c]];
                    if (BitConverter.DoubleToUInt64Bits(other) > BitConverter.DoubleToUInt64Bits(value))
                    {
                        value = other;
                    }

                    positions[c]++;
                }
            }

            ts.Add(t);
            vs.Add(value);
        }
    }

    private void Accumulate(SeriesKey key, byte[] metadata, long[] timestamps, double[] values)
    {
        if (!_series.TryGetValue(key, out var series))
        {
            _series[key] = series = _create(key);
        }

        series.Metadata = metadata;
        series.Add(timestamps, values);
    }
}
