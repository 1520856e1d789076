using Tailor.Compaction.Memory;

namespace Tailor.Compaction.Reading;

/// <summary>
/// Orders one reading thread's runs by series key, then first timestamp, newest intake, and read
/// order, as every spill and the final merge need them.
/// </summary>
/// <remarks>
/// Instead of comparing keys run against run (a 20-byte key fetched from the series table per
/// comparison), each series gets its rank in key order once, kept up to date as new series arrive
/// (only the new ones are sorted, then merged in), and the runs are placed by rank with a counting
/// sort that keeps read order. A series holds about one run per spill, so the few groups of runs of
/// one series left are put in order by insertion. The order is exactly the comparison order above.
/// </remarks>
internal sealed unsafe class RunOrder : IDisposable
{
    private readonly NativeBuffer<int> _byKey = new(1024);   // series ids in key order
    private readonly NativeBuffer<int> _rank = new(1024);    // series id -> its index in _byKey
    private readonly NativeBuffer<KeyedId> _added = new(256); // new series, to sort before merging in
    private readonly NativeBuffer<int> _merged = new(1024);
    private readonly NativeBuffer<int> _starts = new(1024);  // per rank: where its runs go
    private readonly NativeBuffer<int> _order = new(256);    // the result: run indices in order

    /// <summary>Native bytes held.</summary>
    public long Bytes => SeriesBytes + _order.Bytes;

    /// <summary>Native bytes held for the series (ranks and their scratch), which grow with the series table, not with the runs.</summary>
    public long SeriesBytes => _byKey.Bytes + _rank.Bytes + _added.Bytes + _merged.Bytes + _starts.Bytes;

    /// <summary>Bytes the order needs per run (what a spill check counts).</summary>
    public const int BytesPerRun = sizeof(int);

    /// <summary>The ids of every series of <paramref name="table"/> in key order (<paramref name="count"/> of them); valid until the table grows.</summary>
    public int* SeriesInKeyOrder(SeriesTable table, out int count)
    {
        UpdateRanks(table);
        count = (int)_byKey.Count;
        return _byKey.Pointer;
    }

    /// <summary>The indices of <paramref name="runs"/> in order; valid until the next call.</summary>
    public ReadOnlySpan<int> Sort(SeriesTable table, NativeBuffer<Run> runs)
    {
        UpdateRanks(table);
        var count = checked((int)runs.Count);
        var seriesCount = table.Count;
        _starts.Clear();
        var starts = _starts.Reserve(seriesCount + 1);
        starts.Clear();
        var rank = _rank.Pointer;
        var all = runs.Pointer;
        for (var i = 0; i < count; i++)
        {
            starts[rank[all[i].Series] + 1]++;
        }

        for (var r = 1; r <= seriesCount; r++)
        {
            starts[r] += starts[r - 1];
        }

        _order.Clear();
        var order = _order.Reserve(count);
        for (var i = 0; i < count; i++)
        {
            order[starts[rank[all[i].Series]]++] = i;
        }

        // Runs of one series sit together in read order; put each group in time order.
        var start = 0;
        while (start < count)
        {
            var series = all[order[start]].Series;
            var end = start + 1;
            while (end < count && all[order[end]].Series == series)
            {
                end++;
            }

            for (var j = start + 1; j < end; j++)
            {
                var moving = order[j];
                var k = j - 1;
                while (k >= start && Before(all[moving], moving, all[order[k]], order[k]))
                {
                    order[k + 1] = order[k];
                    k--;
                }

                order[k + 1] = moving;
            }

            start = end;
        }

        return order;
    }

    /// <summary>Gives back memory beyond what the series ranks need.</summary>
    public void Trim()
    {
        _added.Clear();
        _added.Trim();
        _merged.Clear();
        _merged.Trim();
        _starts.Clear();
        _starts.Trim();
        _order.Clear();
        _order.Trim();
    }

    public void Dispose()
    {
        _byKey.Dispose();
        _rank.Dispose();
        _added.Dispose();
        _merged.Dispose();
        _starts.Dispose();
        _order.Dispose();
    }

    /// <summary>Within one series: first timestamp, then newest intake first, then read order.</summary>
    private static bool Before(in Run a, int aIndex, in Run b, int bIndex)
    {
        if (a.FirstTimestamp != b.FirstTimestamp)
        {
            return a.FirstTimestamp < b.FirstTimestamp;
        }

        if (a.Intake != b.Intake)
        {
            return a.Intake > b.Intake;
        }

        return a.Start != b.Start ? a.Start < b.Start : aIndex < bIndex;
    }

    /// <summary>Brings the ranks up to the table's series: sorts the new ones and merges them in.</summary>
    private void UpdateRanks(SeriesTable table)
    {
        var known = (int)_byKey.Count;
        var total = table.Count;
        if (known == total)
        {
            return;
        }

        _added.Clear();
        var added = _added.Reserve(total - known);
        for (var id = known; id < total; id++)
        {
            added[id - known] = new KeyedId(table[id].Key, id);
        }

        added.Sort();

        // Merge the sorted new ids with the known ones (keys are distinct: one id per key). Each new key
        // finds its place by search and the known ids before it move as a block: after the first spills
        // only a few series are new, and comparing against every known one fetched each known key from
        // the table, a cache miss apiece.
        _merged.Clear();
        var merged = _merged.Reserve(total);
        var a = 0;
        var m = 0;
        var byKey = new ReadOnlySpan<int>(_byKey.Pointer, known);
        foreach (var next in added)
        {
            // Gallop from the last place (steps 1, 2, 4, ...), then search the last step's span: a cost that
            // grows with the log of the gap, so a merge of many new series costs about what a linear one does.
            var lo = a;
            var hi = known;
            for (var step = 1; lo < known; step *= 2)
            {
                var probe = lo + step - 1;
                if (probe >= known || table[byKey[probe]].Key.CompareTo(next.Key) >= 0)
                {
                    hi = Math.Min(probe, known);
                    break;
                }

                lo = probe + 1;
            }

            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (table[byKey[mid]].Key.CompareTo(next.Key) < 0)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            byKey[a..lo].CopyTo(merged[m..]);
            m += lo - a;
            a = lo;
            merged[m++] = next.Id;
        }

        byKey[a..].CopyTo(merged[m..]);

        _byKey.Clear();
        merged.CopyTo(_byKey.Reserve(total));
        _byKey.Count = total;
        _rank.Clear();
        var rank = _rank.Reserve(total);
        for (var r = 0; r < total; r++)
        {
            rank[merged[r]] = r;
        }

        _rank.Count = total;
    }

    private readonly struct KeyedId(CompactKey key, int id) : IComparable<KeyedId>
    {
        public CompactKey Key { get; } = key;

        public int Id { get; } = id;

        public int CompareTo(KeyedId other) => Key.CompareTo(other.Key);
    }
}
