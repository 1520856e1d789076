using Tailor.Compaction.Merging;
using Tailor.Compaction.Reading;

namespace Tailor.Compaction.Tests;

/// <summary>The merge ranges cut from the readers' key orders against a plain sort of every series.</summary>
public sealed class KeyRangesTests
{
    [Theory]
    [InlineData(1, 2, false)]
    [InlineData(2, 32, false)]
    [InlineData(3, 7, false)]
    [InlineData(8, 64, false)]
    [InlineData(2, 4, true)]
    public void Boundaries_are_those_a_sort_of_every_readers_series_gives(int readerCount, int ranges, bool uniform)
    {
        var random = new Random((readerCount * 1000) + ranges);
        var readers = new List<SeriesReader>();
        try
        {
            for (var r = 0; r < readerCount; r++)
            {
                var reader = new SeriesReader(0, 1, 1 << 20);
                readers.Add(reader);

                // Readers share many keys, and some series carry most of the points.
                for (var i = random.Next(0, 3000); i > 0; i--)
                {
                    var id = reader.Table.GetOrAdd(new CompactKey((uint)random.Next(3), (ulong)random.Next(30), (ulong)random.Next(200)));
                    // Uniform points make a share end exactly at a key.
                    reader.Table[id].Points += uniform ? 10 : random.Next(10) == 0 ? random.Next(1, 50_000) : random.Next(1, 100);
                }

                // Part of the ranks before more series arrive, as the spills update them.
                reader.Order.Sort(reader.Table, reader.Buffer.Runs);
                for (var i = uniform ? 0 : random.Next(0, 500); i > 0; i--)
                {
                    var id = reader.Table.GetOrAdd(new CompactKey((uint)random.Next(3), (ulong)random.Next(30), (ulong)random.Next(400)));
                    reader.Table[id].Points += random.Next(1, 100);
                }
            }

            Assert.Equal(Reference(readers, ranges), KeyRanges.Build(readers, ranges));
        }
        finally
        {
            readers.ForEach(r => r.Dispose());
        }
    }

    /// <summary>Every reader's series sorted together; a range ends before a key once the keys before it hold a share of the points.</summary>
    private static CompactKey[] Reference(List<SeriesReader> readers, int ranges)
    {
        var all = readers.SelectMany(r => Enumerable.Range(0, r.Table.Count).Select(id => (r.Table[id].Key, r.Table[id].Points))).OrderBy(e => e.Key).ToArray();
        if (ranges <= 1 || all.Length == 0)
        {
            return [];
        }

        var per = Math.Max(1, all.Sum(e => e.Points) / ranges);
        var boundaries = new List<CompactKey>();
        long running = 0;
        var next = per;
        for (var i = 0; i < all.Length && boundaries.Count < ranges - 1; i++)
        {
            running += all[i].Points;
            if (running >= next && i + 1 < all.Length && all[i + 1].Key.CompareTo(all[i].Key) != 0)
            {
                boundaries.Add(all[i + 1].Key);
                next += per;
            }
        }

        return [.. boundaries];
    }
}
