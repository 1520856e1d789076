using Tailor.Format.Segments;
using Tailor.Sink;
using Tailor.Storage;
using Tailor.Testing;

namespace Tailor.Compaction.Tests;

[CollectionDefinition(S3rverFixture.Collection)]
public sealed class S3rverCollection : ICollectionFixture<S3rverFixture>;

[Collection(S3rverFixture.Collection)]
public sealed class RobustnessTests(S3rverFixture s3)
{
    [Fact]
    public async Task A_damaged_record_is_counted_and_exactly_its_points_are_lost()
    {
        await using var kit = await CompactionTestKit.CreateAsync(points: 120_000, sharedShards: 1);
        var shard = ShardName.Shared(0);
        var segmentKey = await FirstSegmentInWindowAsync(kit);
        var path = Path.Combine(kit.Store.RootPath, segmentKey);
        var bytes = await File.ReadAllBytesAsync(path);
        var records = ReadRecords(bytes);

        var victim = records[records.Count / 2];
        bytes[victim.Offset + SegmentFormat.RecordHeaderLength + 40] ^= 0x5A; // inside the frame: the checksum no longer matches
        await File.WriteAllBytesAsync(path, bytes);

        var options = new CompactionOptions { WorkDirectory = kit.WorkDirectory, TargetPartBytes = 1L << 30 };
        var report = await new CompactionRunner(kit.Store, options).RunAsync(shard, CompactionTestKit.Window);
        Assert.Equal(1, report.DamagedRecords);
        Assert.Equal(1, report.DamagedRegions);

        // The reference without that one delivery of the payload is exactly what was written.
        var index = kit.Frames.FindIndex(f => f.Frame.AsSpan().SequenceEqual(victim.Frame));
        Assert.True(index >= 0);
        var complete = kit.Reference(shard, CompactionTestKit.Window);
        var without = kit.Frames.Where((_, i) => i != index).ToList();
        kit.Frames.Clear();
        kit.Frames.AddRange(without);
        var reference = kit.Reference(shard, CompactionTestKit.Window);
        var written = await kit.ReadAsync(report.Parts[0].Key);
        Assert.True(reference.AsSpan().SequenceEqual(written));

        // Against the damaged segments the S-files hold every point that can still be read.
        var verify = await new CompactionVerifier(kit.Store, options).VerifyAsync(shard, CompactionTestKit.Window);
        Assert.True(verify.IsExact, string.Join("\n", verify.Samples));
        Assert.Equal(1, verify.DamagedRecords);

        // Against the segments as they were before the damage, verify names exactly the points the damage
        // cost: those only that delivery held (missing), and those whose latest value it held (different).
        bytes[victim.Offset + SegmentFormat.RecordHeaderLength + 40] ^= 0x5A;
        await File.WriteAllBytesAsync(path, bytes);
        var all = Points(complete);
        var kept = Points(written);
        var lost = all.Keys.Where(k => !kept.ContainsKey(k)).ToHashSet();
        var changed = all.Keys.Where(k => kept.TryGetValue(k, out var bits) && bits != all[k]).ToHashSet();
        Assert.NotEmpty(lost);
        Assert.DoesNotContain(kept.Keys, k => !all.ContainsKey(k));
        var against = await new CompactionVerifier(kit.Store, options).VerifyAsync(shard, CompactionTestKit.Window);
        Assert.Equal(0, against.DamagedRecords);
        Assert.Equal(all.Count, against.Expected);
        Assert.Equal(lost.Count, against.Missing);
        Assert.Equal(changed.Count, against.Different);
        Assert.Equal(0, against.Extra);
        Assert.Equal(all.Count - lost.Count - changed.Count, against.Found);
        foreach (var sample in against.Samples)
        {
            // "missing point org:metric:context @ts" names one lost point; "missing series org:metric:context:
            // n points from ts" a series the damaged delivery alone held, every point of it lost.
            // "different point org:metric:context @ts: …" one whose latest value it held.
            var parts = sample.Split(' ');
            var key = parts[2].TrimEnd(':').Split(':');
            var (org, metric, context) = (uint.Parse(key[0]), ulong.Parse(key[1]), ulong.Parse(key[2]));
            if (parts[0] == "different")
            {
                Assert.Contains((org, metric, context, long.Parse(parts[3].TrimEnd(':')[1..])), changed);
                continue;
            }

            Assert.Equal("missing", parts[0]);
            if (parts[1] == "point")
            {
                Assert.Contains((org, metric, context, long.Parse(parts[3][1..])), lost);
            }
            else
            {
                Assert.Equal("series", parts[1]);
                var series = all.Keys.Where(k => k.Item1 == org && k.Item2 == metric && k.Item3 == context).ToList();
                Assert.Equal(int.Parse(parts[3]), series.Count);
                Assert.All(series, k => Assert.Contains(k, lost));
            }
        }

        Assert.NotEmpty(against.Samples);
    }

    [Fact]
    public async Task An_unreadable_segment_is_counted_and_the_others_are_compacted()
    {
        await using var kit = await CompactionTestKit.CreateAsync(points: 120_000, sharedShards: 1, rotateEvery: TimeSpan.FromSeconds(20));
        var shard = ShardName.Shared(0);
        var segmentKey = await FirstSegmentInWindowAsync(kit);
        var path = Path.Combine(kit.Store.RootPath, segmentKey);
        var bytes = await File.ReadAllBytesAsync(path);
        var lostFrames = ReadRecords(bytes);
        Assert.NotEmpty(lostFrames);

        // The header's magic and the footer's: the segment cannot be read at all.
        bytes.AsSpan(0, 8).Fill(0xEE);
        bytes.AsSpan(bytes.Length - 8).Fill(0xEE);
        await File.WriteAllBytesAsync(path, bytes);

        var options = new CompactionOptions { WorkDirectory = kit.WorkDirectory, TargetPartBytes = 1L << 30 };
        var report = await new CompactionRunner(kit.Store, options).RunAsync(shard, CompactionTestKit.Window);
        Assert.Equal(1, report.UnreadableSegments);
        Assert.True(report.Segments > 1 && report.PointsOut > 0, $"segments {report.Segments}, points in {report.PointsIn}");

        // Exactly the reference without every delivery that segment held.
        foreach (var (_, frame) in lostFrames)
        {
            var index = kit.Frames.FindIndex(f => f.Frame.AsSpan().SequenceEqual(frame));
            Assert.True(index >= 0);
            kit.Frames.RemoveAt(index);
        }

        var reference = kit.Reference(shard, CompactionTestKit.Window);
        var written = await kit.ReadAsync(report.Parts[0].Key);
        Assert.True(reference.AsSpan().SequenceEqual(written));
    }

    /// <summary>Every point of an S-file: (org, metric, context, timestamp) to its value bits.</summary>
    private static Dictionary<(uint, ulong, ulong, long), ulong> Points(byte[] file)
    {
        var points = new Dictionary<(uint, ulong, ulong, long), ulong>();
        var scanner = new Tailor.Format.Series.SFileScanner(file);
        var ts = new long[scanner.Layout.Footer.Stats.MaxPointCount];
        var values = new double[ts.Length];
        while (scanner.MoveNext())
        {
            var entry = scanner.Current;
            var n = scanner.ReadPoints(ts, values);
            for (var i = 0; i < n; i++)
            {
                points.Add((entry.Key.OrgId, entry.Key.MetricId, entry.Key.ContextKey, ts[i]), BitConverter.DoubleToUInt64Bits(values[i]));
            }
        }

        scanner.Dispose();
        return points;
    }

    [Fact]
    public async Task A_full_disk_while_spilling_fails_clearly_publishes_nothing_and_a_rerun_succeeds()
    {
        await using var kit = await CompactionTestKit.CreateAsync(points: 1_200_000, series: 3000, sharedShards: 1);
        var shard = ShardName.Shared(0);
        using (var tiny = new TmpfsMount("2m"))
        {
            var cramped = new CompactionOptions { WorkDirectory = tiny.Path, MemoryBudgetBytes = 16L << 20 };
            var error = await Assert.ThrowsAsync<CompactionException>(() => new CompactionRunner(kit.Store, cramped).RunAsync(shard, CompactionTestKit.Window));
            Assert.Contains("disk is full", error.Message, StringComparison.Ordinal);
            Assert.Contains(tiny.Path, error.Message, StringComparison.Ordinal);
        }

        Assert.Null(await kit.Store.GetInfoAsync(ObjectKeys.Manifest(shard, CompactionTestKit.Window.Start)));
        await foreach (var info in kit.Store.ListAsync(ObjectKeys.SeriesRoot))
        {
            Assert.Fail($"nothing may be published, found {info.Key}");
        }

        var report = await new CompactionRunner(kit.Store, new CompactionOptions { WorkDirectory = kit.WorkDirectory, MemoryBudgetBytes = 16L << 20 })
            .RunAsync(shard, CompactionTestKit.Window);
        Assert.True(report.Spills > 0);
        var verify = await new CompactionVerifier(kit.Store, new CompactionOptions { WorkDirectory = kit.WorkDirectory }).VerifyAsync(shard, CompactionTestKit.Window);
        Assert.True(verify.IsExact);
    }

    [Fact]
    public async Task The_same_inputs_are_a_no_op_and_a_late_segment_makes_the_window_recompact()
    {
        await using var kit = await CompactionTestKit.CreateAsync(points: 80_000, sharedShards: 1);
        var shard = ShardName.Shared(0);
        var runner = new CompactionRunner(kit.Store, new CompactionOptions { WorkDirectory = kit.WorkDirectory });
        var first = await runner.RunAsync(shard, CompactionTestKit.Window);
        Assert.False(first.Skipped);
        var again = await runner.RunAsync(shard, CompactionTestKit.Window);
        Assert.True(again.Skipped);

        // A late segment with points of the window arrives: the next run recompacts, and old parts go away.
        await using (var late = new DirectSegmentWriter(kit.Store, new SinkOptions { ShardMap = kit.Map }))
        {
            var frame = kit.Frames[^1].Frame;
            await late.WriteAsync(frame);
        }

        var third = await runner.RunAsync(shard, CompactionTestKit.Window);
        Assert.False(third.Skipped);
        Assert.NotEqual(first.Generation, third.Generation);
        var keys = new List<string>();
        await foreach (var info in kit.Store.ListAsync(ObjectKeys.SeriesWindowPrefix(shard, CompactionTestKit.Window.Start)))
        {
            keys.Add(info.Key);
        }

        Assert.Equal(third.Parts.Select(p => p.Key).Append(third.Manifest).Order(StringComparer.Ordinal), keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Compaction_against_s3rver_gives_the_same_bytes_as_against_a_local_folder()
    {
        await using var kit = await CompactionTestKit.CreateAsync(points: 100_000, sharedShards: 1);
        var shard = ShardName.Shared(0);
        await using var s3Store = await s3.CreateStoreAsync("tailor");
        await foreach (var info in kit.Store.ListAsync(ObjectKeys.SegmentsRoot))
        {
            await s3Store.PutAsync(info.Key, await kit.ReadAsync(info.Key));
        }

        var options = new CompactionOptions { WorkDirectory = kit.WorkDirectory, TargetPartBytes = 64 << 10 };
        var local = await new CompactionRunner(kit.Store, options).RunAsync(shard, CompactionTestKit.Window);
        var remote = await new CompactionRunner(s3Store, options).RunAsync(shard, CompactionTestKit.Window);
        Assert.True(local.Parts.Count > 1);
        // The stores report different ETags, so the generation in the keys differs; the bytes do not.
        Assert.Equal(local.Parts.Select(p => p.Sha256), remote.Parts.Select(p => p.Sha256));
        Assert.True(remote.StoreCalls.GetValueOrDefault("get") > 0);
        var verify = await new CompactionVerifier(s3Store, options).VerifyAsync(shard, CompactionTestKit.Window);
        Assert.True(verify.IsExact, string.Join("\n", verify.Samples));
        Assert.Equal(local.PointsOut, verify.Found);
    }

    private static List<(long Offset, byte[] Frame)> ReadRecords(byte[] bytes)
    {
        var layout = SegmentLayout.Read(bytes);
        var reader = SegmentReader.OverFile(bytes, layout.CreateFileState());
        var records = new List<(long Offset, byte[] Frame)>();
        while (reader.TryReadRecord(out var record))
        {
            records.Add((record.Offset, record.Frame.ToArray()));
        }

        return records;
    }

    private static async Task<string> FirstSegmentInWindowAsync(CompactionTestKit kit)
    {
        await foreach (var info in kit.Store.ListAsync(ObjectKeys.SegmentsRoot))
        {
            if (info.Key.Contains("/2026-11-26T00/", StringComparison.Ordinal))
            {
                return info.Key;
            }
        }

        throw new InvalidOperationException("no segment in the window's first hour");
    }
}
