using Tailor.Format.Series;
using Tailor.Query.Reading;

namespace Tailor.Query.Results;

/// <summary>
/// Builds one series' result from its chunks, fed in time order (window after window): raw columns, or
/// step buckets folded point by point so that every aggregation sees the points in time order, exactly as
/// a plain loop over all of them would.
/// </summary>
internal sealed class SeriesAccumulator
{
    private readonly QueryContext _context;
    private readonly QueryAggregation[] _aggregations;
    private readonly long _from;
    private readonly long _to;
    private readonly long _step;
    private long[] _timestamps = [];
    private double[] _values = [];
    private double[][] _columns;
    private int _count;
    private long _reserved;

    // The open bucket of a stepped query.
    private long _bucket = -1;
    private long _bucketEnd = long.MinValue;
    private long _points;
    private double _sum;
    private double _min;
    private double _max;
    private double _first;
    private double _last;
    private double _increase;
    private bool _hasPrevious;
    private double _previous;

    public SeriesAccumulator(QueryContext context, SeriesKey key, QueryAggregation[] aggregations, long from, long to, long step)
    {
        _context = context;
        Key = key;
        _aggregations = aggregations;
        _from = from;
        _to = to;
        _step = step;
        _columns = new double[aggregations.Length][];
        for (var i = 0; i < _columns.Length; i++)
        {
            _columns[i] = [];
        }
    }

    public SeriesKey Key { get; }

    public byte[] Metadata { get; set; } = [];

    public long ReservedBytes => _reserved;

    public void Add(ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values)
    {
        if (_step == 0)
        {
            _context.AddPoints(timestamps.Length);
            Ensure(_count + timestamps.Length);
            timestamps.CopyTo(_timestamps.AsSpan(_count));
            values.CopyTo(_values.AsSpan(_count));
            _count += timestamps.Length;
            return;
        }

        for (var i = 0; i < timestamps.Length; i++)
        {
            var v = values[i];
            if (timestamps[i] >= _bucketEnd)
            {
                // Points come in time order, so a bucket only ever gives way to a later one: one division per bucket, not per point.
                Flush();
                _bucket = (long)(((Int128)timestamps[i] - _from) / _step);
                _bucketEnd = (long)Int128.Min((Int128)_from + ((Int128)(_bucket + 1) * _step), long.MaxValue);
                _points = 0;
                _increase = 0;
            }

            if (_points == 0)
            {
                _sum = _min = _max = _first = v;
            }
            else
            {
                _sum += v;
                _min = Math.Min(_min, v);
                _max = Math.Max(_max, v);
            }

            _last = v;
            _points++;
            if (_hasPrevious)
            {
                // A counter that went down restarted from zero: its increase since then is its value.
                _increase += v >= _previous ? v - _previous : v;
            }

            _previous = v;
            _hasPrevious = true;
        }
    }

    /// <summary>Closes the open bucket and returns the series.</summary>
    public QuerySeries Finish()
    {
        Flush();
        var columns = new ReadOnlyMemory<double>[_columns.Length];
        for (var i = 0; i < columns.Length; i++)
        {
            columns[i] = _columns[i].AsMemory(0, _count);
        }

        return new QuerySeries(Key, Metadata, _timestamps.AsMemory(0, _count), _step == 0 ? _values.AsMemory(0, _count) : ReadOnlyMemory<double>.Empty, _aggregations, columns);
    }

    private void Flush()
    {
        if (_bucket < 0 || _points == 0)
        {
            return;
        }

        _context.AddPoints(1);
        Ensure(_count + 1);
        var start = _from + (_bucket * _step);
        var length = (long)(Int128.Min((Int128)start + _step, _to) - start);
        _timestamps[_count] = start;
        for (var a = 0; a < _aggregations.Length; a++)
        {
            _columns[a][_count] = _aggregations[a] switch
            {
                QueryAggregation.Min => _min,
                QueryAggregation.Max => _max,
                QueryAggregation.Sum => _sum,
                QueryAggregation.Count => _points,
                QueryAggregation.Avg => _sum / _points,
                QueryAggregation.First => _first,
                QueryAggregation.Last => _last,
                QueryAggregation.Rate => _increase / length,
                _ => double.NaN,
            };
        }

        _count++;
        _points = 0;
    }

    private void Ensure(int needed)
    {
        if (needed <= _timestamps.Length)
        {
            return;
        }

        var capacity = Math.Max(needed, Math.Max(16, _timestamps.Length * 2));
        var perRow = 8L + (_step == 0 ? 8 : 8L * _aggregations.Length);
        var more = (capacity - _timestamps.Length) * perRow;
        _context.Reserve(more);
        _reserved += more;
        Array.Resize(ref _timestamps, capacity);
        if (_step == 0)
        {
            Array.Resize(ref _values, capacity);
        }
        else
        {
            for (var i = 0; i < _columns.Length; i++)
            {
                Array.Resize(ref _columns[i], capacity);
            }
        }
    }
}
