using Tailor.Compaction.Reading;

namespace Tailor.Compaction.Merging;

/// <summary>Cuts the key space into contiguous ranges of about equal point counts, for parallel merging and encoding.</summary>
internal static unsafe class KeyRanges
{
    /// <summary>The points every reader read, spilled or in memory, before the duplicate rule.</summary>
    public static long Points(IReadOnlyList<SeriesReader> readers)
    {
        long points = 0;
        foreach (var reader in readers)
        {
            for (var id = 0; id < reader.Table.Count; id++)
            {
                points += reader.Table[id].Points;
            }
        }

        return points;
    }

    /// <summary>Boundaries b0 &lt; b1 &lt; …: range i is [b(i-1), b(i)), the first open below and the last open above.</summary>
    /// <remarks>
    /// Each reader's series are already in key order (<see cref="RunOrder.SeriesInKeyOrder"/>), so the
    /// keys are merged, not sorted: the merge begins with this, on one thread, and a sort of every
    /// series of every reader took 30 ms of it.
    /// </remarks>
    public static CompactKey[] Build(IReadOnlyList<SeriesReader> readers, int ranges)
    {
        var total = 0;
        foreach (var reader in readers)
        {
            total += reader.Table.Count;
        }

        var points = Points(readers);

        if (ranges <= 1 || total == 0)
        {
            return [];
        }

        var count = readers.Count;
        var orders = new int*[count];
        var lengths = new int[count];
        var next = new int[count]; // the position reached in each reader's order
        for (var r = 0; r < count; r++)
        {
            orders[r] = readers[r].Order.SeriesInKeyOrder(readers[r].Table, out lengths[r]);
        }

        var boundaries = new List<CompactKey>(ranges);
        var per = Math.Max(1, points / ranges);
        long running = 0;
        var target = per;
        var taken = 0;
        while (taken < total)
        {
            // The smallest key among the readers' next series.
            var found = false;
            CompactKey smallest = default;
            for (var r = 0; r < count; r++)
            {
                if (next[r] < lengths[r])
                {
                    ref readonly var key = ref readers[r].Table[orders[r][next[r]]].Key;
                    if (!found || key.CompareTo(smallest) < 0)
                    {
                        smallest = key;
                        found = true;
                    }
                }
            }

            // A range ends before a key once the keys before it hold a range's share of the points.
            if (taken > 0 && running >= target)
            {
                boundaries.Add(smallest);
                target += per;
                if (boundaries.Count == ranges - 1)
                {
                    break;
                }
            }

            // Every reader's series of that key.
            for (var r = 0; r < count; r++)
            {
                if (next[r] < lengths[r])
                {
                    ref var info = ref readers[r].Table[orders[r][next[r]]];
                    if (info.Key.CompareTo(smallest) == 0)
                    {
                        running += info.Points;
                        next[r]++;
                        taken++;
                    }
                }
            }
        }

        return [.. boundaries];
    }
}
