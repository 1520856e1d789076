using Tailor.Compaction.Reading;

namespace Tailor.Compaction.Merging;

/// <summary>Cuts the key space into contiguous ranges of about equal point counts, for parallel merging and encoding.</summary>
internal static class KeyRanges
{
    /// <summary>Boundaries b0 &lt; b1 &lt; …: range i is [b(i-1), b(i)), the first open below and the last open above.</summary>
    public static CompactKey[] Build(IReadOnlyList<SeriesTable> tables, int ranges)
    {
        var total = 0;
        foreach (var table in tables)
        {
            total += table.Count;
        }

        if (ranges <= 1 || total == 0)
        {
            return [];
        }

        var keys = new (CompactKey Key, long Points)[total];
        var n = 0;
        long points = 0;
        foreach (var table in tables)
        {
            for (var id = 0; id < table.Count; id++)
            {
                keys[n++] = (table[id].Key, table[id].Points);
                points += table[id].Points;
            }
        }

        Array.Sort(keys, static (a, b) => a.Key.CompareTo(b.Key));
        var boundaries = new List<CompactKey>(ranges);
        var per = Math.Max(1, points / ranges);
        long running = 0;
        var next = per;
        for (var i = 0; i < keys.Length; i++)
        {
            running += keys[i].Points;
            if (running >= next && i + 1 < keys.Length && keys[i + 1].Key.CompareTo(keys[i].Key) != 0)
            {
                boundaries.Add(keys[i + 1].Key);
                next += per;
                if (boundaries.Count == ranges - 1)
                {
                    break;
                }
            }
        }

        return [.. boundaries];
    }
}
