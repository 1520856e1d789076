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

public sealed class SpillReadBackTests
{
    /// <summary>
    /// Series of every size read back whole: small ones in place from the read buffer (some straddling
    /// its refills), one with more points and one with more run headers than the buffer holds (copied).
    /// </summary>
    [Fact]
    public void Every_run_reads_back_as_written_whatever_the_series_size()
    {
        var folder = Directory.CreateTempSubdirectory("tailor-spill-").FullName;
        try
        {
            using var reader = new SeriesReader(0, long.MaxValue, 1 << 20);
            var expected = new SortedDictionary<ulong, List<(long Intake, long[] Timestamps, double[] Values)>>();
            var random = new Random(5);

            void AddRun(ulong metric, long intake, long[] timestamps)
            {
                var buffer = reader.Buffer;
                var id = reader.Table.GetOrAdd(new CompactKey(2, metric, 9));
                var start = buffer.Timestamps.Count;
                var ts = buffer.Timestamps.Reserve(timestamps.Length);
                var values = buffer.Values.Reserve(timestamps.Length);
                var written = new double[timestamps.Length];
                for (var i = 0; i < timestamps.Length; i++)
                {
                    ts[i] = timestamps[i];
                    values[i] = written[i] = (metric * 1000.0) + intake + (i / 7.0);
                }

                buffer.Timestamps.Count += timestamps.Length;
                buffer.Values.Count += timestamps.Length;
                var sorted = timestamps.Zip(timestamps.Skip(1)).All(p => p.First < p.Second);
                buffer.Runs.Add(new Run
                {
                    Series = id, Count = timestamps.Length, Start = start, Intake = intake,
                    FirstTimestamp = timestamps.Min(), LastTimestamp = timestamps.Max(), Sorted = sorted,
                });
                reader.Table[id].Points += timestamps.Length;
                if (!expected.TryGetValue(metric, out var list))
                {
                    expected[metric] = list = [];
                }

                list.Add((intake, timestamps, written));
            }

            for (ulong metric = 0; metric < 600; metric++)
            {
                if (metric == 300)
                {
                    // 10,000 irregular points: 160 KB, more than the 64 KiB read buffer.
                    AddRun(metric, 1, Enumerable.Range(0, 10_000).Select(i => 1000L + (i * 10) + (i % 3)).ToArray());
                    continue;
                }

                if (metric == 400)
                {
                    // 3,000 one-point runs: 96 KB of run headers alone.
                    for (var r = 0; r < 3000; r++)
                    {
                        AddRun(metric, r, [5000L + r]);
                    }

                    continue;
                }

                if (metric == 450)
                {
                    // Run headers that stop 24 bytes short of the buffer's end (24 + 32 + 3182 × 8 + 1000 × 40 =
                    // 65,512 bytes), then 500 more: the series is larger than the buffer though the bytes
                    // counted when the next header no longer fits are not.
                    AddRun(metric, 0, Enumerable.Range(0, 3182).Select(i => 7000L + (i * 10)).ToArray());
                    for (var r = 1; r <= 1500; r++)
                    {
                        AddRun(metric, r, [100_000L + r]);
                    }

                    continue;
                }

                for (var r = 0; r < 1 + random.Next(4); r++)
                {
                    var n = 1 + random.Next(60);
                    var regular = random.Next(2) == 0;
                    AddRun(metric, 10 + r, Enumerable.Range(0, n).Select(i => 2000L + (i * 15) + (regular || i % 2 == 0 ? 0 : 1)).ToArray());
                }
            }

            using var spill = SpillFile.Write(reader, Path.Combine(folder, "b.run"));
            using var source = SpillRunSource.Open(spill);
            using var runs = new Tailor.Compaction.Memory.NativeBuffer<Tailor.Compaction.Merging.RunView>(4);
            var seen = new List<ulong>();
            while (source.HasCurrent)
            {
                var metric = source.CurrentKey.Metric;
                seen.Add(metric);
                runs.Clear();
                source.AddRuns(runs);
                var want = expected[metric].OrderBy(r => r.Intake).ToList();
                var got = new List<(long Intake, long[] Timestamps, double[] Values)>();
                unsafe
                {
                    for (long i = 0; i < runs.Count; i++)
                    {
                        var run = runs[i];
                        got.Add((run.Intake, new ReadOnlySpan<long>(run.Timestamps, run.Count).ToArray(), new ReadOnlySpan<double>(run.Values, run.Count).ToArray()));
                    }
                }

                got = got.OrderBy(r => r.Intake).ToList();
                Assert.Equal(want.Count, got.Count);
                for (var i = 0; i < want.Count; i++)
                {
                    Assert.Equal(want[i].Intake, got[i].Intake);
                    Assert.Equal(want[i].Timestamps, got[i].Timestamps);
                    Assert.Equal(want[i].Values, got[i].Values);
                }

                source.MoveNext();
            }

            Assert.Equal(expected.Keys, seen);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_spill_file_cut_short_is_reported_as_damaged()
    {
        var folder = Directory.CreateTempSubdirectory("tailor-spill-").FullName;
        try
        {
            using var reader = SpillTestData.Reader(series: 50, points: 20);

            var path = Path.Combine(folder, "c.run");
            using var spill = SpillFile.Write(reader, path);
            using (var file = File.OpenWrite(path))
            {
                file.SetLength(spill.Bytes - 100); // inside the last series' values
            }

            using var source = SpillRunSource.Open(spill);
            var error = Assert.Throws<CompactionException>(() =>
            {
                while (source.HasCurrent)
                {
                    source.MoveNext();
                }
            });
            Assert.Contains("c.run", error.Message, StringComparison.Ordinal);
            Assert.Contains("ends early", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

/// <summary>The pool of spill sources is process-wide: this test runs alone.</summary>
[Collection(Memory.NativePoolCollection.Name)]
public sealed class SpillSourcePoolTests
{
    /// <summary>
    /// A merge over hundreds of spill files (a small budget) opens a source per file and range; the
    /// next merge finds them all in the pool, past the 256 kept with their buffers, and allocates no
    /// managed objects for them.
    /// </summary>
    [Fact]
    public void A_merge_over_hundreds_of_spills_reuses_its_sources_the_next_time()
    {
        var folder = Directory.CreateTempSubdirectory("tailor-spill-").FullName;
        try
        {
            using var reader = SpillTestData.Reader(series: 20, points: 10);
            using var spill = SpillFile.Write(reader, Path.Combine(folder, "d.run"));
            const int sources = 700;

            long Round()
            {
                var open = new SpillRunSource[sources];
                var before = GC.GetAllocatedBytesForCurrentThread();
                for (var i = 0; i < sources; i++)
                {
                    open[i] = SpillRunSource.Open(spill);
                }

                var positioned = 0;
                foreach (var source in open)
                {
                    positioned += source.HasCurrent && source.CurrentKey.Metric == 0 ? 1 : 0;
                    source.Dispose();
                }

                var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.Equal(sources, positioned);
                return allocated;
            }

            Round();
            var second = Round();
            Assert.True(second < 4096, $"the second round allocated {second:N0} bytes for {sources} sources");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

internal static class SpillTestData
{
    /// <summary>A reader holding one run of irregular points for each of <paramref name="series"/> series (metrics 0, 1, ...).</summary>
    public static SeriesReader Reader(int series, int points)
    {
        var reader = new SeriesReader(0, long.MaxValue, 1 << 20);
        for (ulong metric = 0; metric < (ulong)series; metric++)
        {
            var buffer = reader.Buffer;
            var id = reader.Table.GetOrAdd(new CompactKey(2, metric, 9));
            var start = buffer.Timestamps.Count;
            for (var i = 0; i < points; i++)
            {
                buffer.Timestamps.Add(100 + (i * 10) + (i % 2));
                buffer.Values.Add(i);
            }

            buffer.Runs.Add(new Run { Series = id, Count = points, Start = start, Intake = 1, FirstTimestamp = 100, LastTimestamp = 100 + ((points - 1) * 10) + ((points - 1) % 2), Sorted = true });
            reader.Table[id].Points += points;
        }

        return reader;
    }
}
