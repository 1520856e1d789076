using Tailor.Compaction.Reading;
using Tailor.Compaction.Spill;

namespace Tailor.Compaction.Tests;

public sealed class SpillFileTests
{
    [Theory]
    [InlineData(new long[] { 100 }, true)]
    [InlineData(new long[] { 100, 110 }, true)]
    [InlineData(new long[] { 100, 115, 130, 145 }, true)]
    [InlineData(new long[] { long.MinValue + 1, long.MinValue + 2 }, true)]
    [InlineData(new long[] { }, false)]
    [InlineData(new long[] { 100, 100 }, false)]
    [InlineData(new long[] { 130, 115, 100 }, false)]
    [InlineData(new long[] { 100, 110, 121 }, false)]
    [InlineData(new long[] { 100, 110, 130, 140 }, false)]
    public void Only_timestamps_first_last_and_count_rebuild_are_left_out(long[] timestamps, bool regular)
    {
        Assert.Equal(regular, SpillFile.IsRegular(timestamps));
        if (regular && timestamps.Length > 1)
        {
            var step = (timestamps[^1] - timestamps[0]) / (timestamps.Length - 1);
            Assert.Equal(timestamps, Enumerable.Range(0, timestamps.Length).Select(i => timestamps[0] + (i * step)));
        }
    }
}

public sealed class SpillIndexTests
{
    [Fact]
    public void A_merge_range_starts_reading_a_spill_near_its_first_series()
    {
        var folder = Directory.CreateTempSubdirectory("tailor-spill-").FullName;
        try
        {
            // 5,000 series of 8 irregular points: 24 + 32 + 64 + 64 = 184 bytes each, 920,000 bytes in all.
            const int seriesCount = 5000;
            const int points = 8;
            const int seriesBytes = SpillFile.SeriesHeaderLength + SpillFile.RunHeaderLength + (points * 16);
            using var reader = new SeriesReader(0, long.MaxValue, 1 << 20);
            var buffer = reader.Buffer;
            for (var s = 0; s < seriesCount; s++)
            {
                var id = reader.Table.GetOrAdd(new CompactKey(1, (ulong)s, 7));
                var start = buffer.Timestamps.Count;
                var ts = buffer.Timestamps.Reserve(points);
                var values = buffer.Values.Reserve(points);
                for (var i = 0; i < points; i++)
                {
                    ts[i] = 1000 + (i * 10) + (i == 3 ? 1 : 0);
                    values[i] = s + (i / 8.0);
                }

                buffer.Timestamps.Count += points;
                buffer.Values.Count += points;
                buffer.Runs.Add(new Run { Series = id, Count = points, Start = start, Intake = 5, FirstTimestamp = 1000, LastTimestamp = 1070, Sorted = true });
            }

            using var spill = SpillFile.Write(reader, Path.Combine(folder, "a.run"));
            Assert.Equal((long)seriesCount * seriesBytes, spill.Bytes);

            // The sparse index names a series at most one index step (plus one series) before the key.
            var key = new CompactKey(1, 4000, 7);
            var offset = spill.OffsetFor(key);
            Assert.InRange(offset, (4000L * seriesBytes) - (16 << 10) - seriesBytes, 4000L * seriesBytes);
            Assert.Equal(0, offset % seriesBytes);

            using var source = SpillRunSource.Open(spill, key, new CompactKey(1, 4010, 7));
            var seen = new List<ulong>();
            using var runs = new Tailor.Compaction.Memory.NativeBuffer<Tailor.Compaction.Merging.RunView>(4);
            while (source.HasCurrent)
            {
                seen.Add(source.CurrentKey.Metric);
                runs.Clear();
                source.AddRuns(runs);
                Assert.Equal(1, runs.Count);
                unsafe
                {
                    Assert.Equal(1031, runs[0].Timestamps[3]);
                    Assert.Equal(source.CurrentKey.Metric + (7 / 8.0), runs[0].Values[7]);
                }

                source.MoveNext();
            }

            Assert.Equal(Enumerable.Range(4000, 10).Select(i => (ulong)i), seen);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
