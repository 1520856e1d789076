using System.Buffers;
using Tailor.Format.Series;
using Tailor.Storage;

namespace Tailor.Compaction.Tests;

public sealed class VerificationTests
{
    [Fact]
    public async Task A_compacted_window_verifies_one_to_one()
    {
        await using var kit = await CompactionTestKit.CreateAsync(points: 200_000, sharedShards: 2);
        var options = new CompactionOptions { WorkDirectory = kit.WorkDirectory };
        var shard = ShardName.Shared(1);
        var compacted = await new CompactionRunner(kit.Store, options).RunAsync(shard, CompactionTestKit.Window);
        var report = await new CompactionVerifier(kit.Store, options).VerifyAsync(shard, CompactionTestKit.Window);
        Assert.True(report.IsExact, string.Join("\n", report.Samples));
        Assert.Equal(compacted.PointsOut, report.Expected);
        Assert.Equal(report.Expected, report.Found);
        Assert.Equal(compacted.Series, report.SeriesExpected);
        Assert.True(report.ManifestInputsCurrent);
    }

    [Fact]
    public async Task Deleted_altered_and_added_points_are_reported_exactly()
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
        var report = await new CompactionVerifier(kit.Store, options).VerifyAsync(shard, CompactionTestKit.Window);
        Assert.Equal(7 + droppedSeriesPoints, report.Missing);
        Assert.Equal(5, report.Different);
        Assert.Equal(3, report.Extra);
        Assert.Equal(compacted.PointsOut, report.Expected);
        Assert.Equal(report.Expected - report.Missing - report.Different, report.Found);
        Assert.Contains(report.Samples, s => s.StartsWith("different point", StringComparison.Ordinal));
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
}
