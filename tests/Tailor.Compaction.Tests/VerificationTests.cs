using System.Buffers;
using Tailor.Format.Series;
using Tailor.Storage;

namespace Tailor.Compaction.Tests;

public sealed class VerificationTests
{
    // The found side's batches: the default, and small enough that many batches cycle and most series
    // are longer than one.
    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public async Task A_compacted_window_verifies_one_to_one(int batchPoints)
    {
        await using var kit = await CompactionTestKit.CreateAsync(points: 200_000, sharedShards: 2);
        var options = new CompactionOptions { WorkDirectory = kit.WorkDirectory };
        var shard = ShardName.Shared(1);
        var compacted = await new CompactionRunner(kit.Store, options).RunAsync(shard, CompactionTestKit.Window);
        var report = await Verifier(kit.Store, options, batchPoints).VerifyAsync(shard, CompactionTestKit.Window);
        Assert.True(report.IsExact, string.Join("\n", report.Samples));
        Assert.Equal(compacted.PointsOut, report.Expected);
        Assert.Equal(report.Expected, report.Found);
        Assert.Equal(compacted.Series, report.SeriesExpected);
        Assert.True(report.ManifestInputsCurrent);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public async Task Deleted_altered_and_added_points_are_reported_exactly(int batchPoints)
    {
        await using var kit = await CompactionTestKit.CreateAsync(points: 150_000, sharedShards: 1);
        var options = new CompactionOptions { WorkDirectory = kit.WorkDirectory };
        var shard = ShardName.Shared(0);
        var compacted = await new CompactionRunner(kit.Store, options).RunAsync(shard, CompactionTestKit.Window);
        var part = Assert.Single(compacted.Parts);

        // Rewrite the part: drop 7 points of series 3, change 5 values of series 10, add 2 points to series 20,
        // drop series 30 entirely, and add one series that never existed.
        var original = await kit.ReadAsync(part.Key);
        var output = new ArrayBufferWriter<byte>();
        long droppedSeriesPoints = 0;
        using (var writer = new SFileWriter(output, new SFileWriterOptions { Shard = shard.Value, WindowStart = CompactionTestKit.Window.StartSeconds, WindowSeconds = 14400 }))
        {
            var scanner = new SFileScanner(original);
            var index = 0;
            var ts = new long[100_000];
            var values = new double[100_000];
            SeriesKey last = default;
            while (scanner.MoveNext())
            {
                var entry = scanner.Current;
                var n = scanner.ReadPoints(ts, values);
                var t = ts.AsSpan(0, n).ToArray().ToList();
                var v = values.AsSpan(0, n).ToArray().ToList();
                switch (index++)
                {
                    case 3:
                        Assert.True(n > 7);
                        t.RemoveRange(0, 7);
                        v.RemoveRange(0, 7);
                        break;
                    case 10:
                        Assert.True(n > 5);
                        for (var i = 0; i < 5; i++)
                        {
                            v[i] = BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(v[i]) ^ 1);
                        }

                        break;
                    case 20:
                        t.Add(t[^1] + 1);
                        v.Add(42);
                        t.Add(t[^1] + 1);
                        v.Add(43);
                        break;
                    case 30:
                        droppedSeriesPoints = n;
                        continue;
                }

                writer.AddSeries(entry.Key, scanner.Metadata, t.ToArray(), v.ToArray());
                last = entry.Key;
            }

            scanner.Dispose();
            writer.AddSeries(new SeriesKey(last.OrgId, last.MetricId, last.ContextKey + 1), [], [CompactionTestKit.Window.StartSeconds + 5], [1.5]);
            writer.Complete();
        }

        await kit.Store.PutAsync(part.Key, output.WrittenMemory);
        var report = await Verifier(kit.Store, options, batchPoints).VerifyAsync(shard, CompactionTestKit.Window);
        Assert.Equal(7 + droppedSeriesPoints, report.Missing);
        Assert.Equal(5, report.Different);
        Assert.Equal(3, report.Extra);
        Assert.Equal(compacted.PointsOut, report.Expected);
        Assert.Equal(report.Expected - report.Missing - report.Different, report.Found);
        Assert.Contains(report.Samples, s => s.StartsWith("different point", StringComparison.Ordinal));
    }

    [Fact]
    public void Ranges_are_cut_finer_when_their_points_would_pass_the_merge_reserve()
    {
        // The benchmark's window at a 128 MiB budget (32 MiB reserve): encoded ranges (4 bytes a point
        // assumed) keep 16 a thread; the verifier's ranges of raw points (16 bytes) are cut finer, so the
        // 2 x 2 + 1 ranges in memory stay within the reserve, at any window size.
        const long reserve = 32L << 20;
        Assert.Equal(32, Merging.RangeMerge.RangeCount(37_749_835, parallelism: 2, sinkBytesPerPoint: 4, reserve));
        foreach (var points in new[] { 37_749_835L, 377_498_350L, 3_774_983_500L })
        {
            var ranges = Merging.RangeMerge.RangeCount(points, parallelism: 2, sinkBytesPerPoint: 16, reserve);
            Assert.True(ranges > 32, $"{points} points: {ranges} ranges");
            Assert.True((double)points / ranges * 16 * 5 <= reserve, $"{points} points: {ranges} ranges hold {(double)points / ranges * 16 * 5:N0} bytes");
            Assert.True((double)points / (ranges - 1) * 16 * 5 > reserve, $"{points} points: {ranges} ranges are more than needed");
        }

        Assert.Equal(Merging.RangeMerge.MaxRanges, Merging.RangeMerge.RangeCount(long.MaxValue / 32, parallelism: 2, sinkBytesPerPoint: 16, reserve));
        Assert.Equal(16, Merging.RangeMerge.RangeCount(0, parallelism: 1, sinkBytesPerPoint: 16, reserve));
    }

    [Fact]
    public async Task A_window_never_compacted_reports_every_point_missing()
    {
        await using var kit = await CompactionTestKit.CreateAsync(points: 50_000, sharedShards: 1, startTime: CompactionTestKit.Window.StartSeconds);
        var report = await new CompactionVerifier(kit.Store, new CompactionOptions { WorkDirectory = kit.WorkDirectory }).VerifyAsync(ShardName.Shared(0), CompactionTestKit.Window);
        Assert.False(report.HasManifest);
        Assert.True(report.Expected > 0, $"segments {report.Segments}, expected {report.Expected}");
        Assert.Equal(report.Expected, report.Missing);
        Assert.Equal(0, report.Found);
    }

    private static CompactionVerifier Verifier(IObjectStore store, CompactionOptions options, int batchPoints) =>
        batchPoints == 0 ? new CompactionVerifier(store, options) : new CompactionVerifier(store, options) { FoundBatchPoints = batchPoints };
}
