using Tailor.Compaction.Memory;
using Tailor.Compaction.Reading;

namespace Tailor.Compaction.Tests;

/// <summary>The counting-sort order of runs against the plain comparison it replaces.</summary>
public sealed class RunOrderTests
{
    [Fact]
    public void Runs_come_in_key_then_time_then_newest_intake_then_read_order_as_series_keep_arriving()
    {
        var random = new Random(20261126);
        using var table = new SeriesTable();
        using var runs = new NativeBuffer<Run>(64);
        using var order = new RunOrder();
        long start = 0;
        for (var round = 0; round < 12; round++)
        {
            // New series arrive between sorts (in no key order), and old ones come back.
            runs.Clear();
            var count = random.Next(1, 3000);
            for (var i = 0; i < count; i++)
            {
                var key = new CompactKey((uint)random.Next(3), (ulong)random.Next(40), (ulong)random.Next(50 * (round + 1)));
                var id = table.GetOrAdd(key);
                var first = 1_000 + (random.Next(4) * 10);
                var length = random.Next(1, 20);
                runs.Add(new Run { Series = id, Count = length, Start = start, Intake = random.Next(3), FirstTimestamp = first, LastTimestamp = first + length, Sorted = true });
                start += length;
            }

            var expected = Enumerable.Range(0, count)
                .OrderBy(i => table[runs[i].Series].Key)
                .ThenBy(i => runs[i].FirstTimestamp)
                .ThenByDescending(i => runs[i].Intake)
                .ThenBy(i => runs[i].Start)
                .ToArray();
            Assert.Equal(expected, order.Sort(table, runs).ToArray());
        }

        Assert.True(table.Count > 1000);
    }
}
