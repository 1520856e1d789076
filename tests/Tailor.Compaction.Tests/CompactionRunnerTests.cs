using System.Security.Cryptography;
using Tailor.Storage;

namespace Tailor.Compaction.Tests;

public sealed class CompactionRunnerTests
{
    [Fact]
    public async Task Compaction_writes_exactly_what_an_independent_reference_builder_writes()
    {
        await using var kit = await CompactionTestKit.CreateAsync(points: 150_000);
        var runner = new CompactionRunner(kit.Store, new CompactionOptions { WorkDirectory = kit.WorkDirectory, TargetPartBytes = 1L << 30 });
        long duplicates = 0;
        var shards = 0;
        foreach (var shard in kit.Map.AllShards)
        {
            var report = await runner.RunAsync(shard, CompactionTestKit.Window);
            var reference = kit.Reference(shard, CompactionTestKit.Window);
            if (report.Segments == 0)
            {
                continue;
            }

            Assert.Single(report.Parts);
            var written = await kit.ReadAsync(report.Parts[0].Key);
            Assert.Equal(reference.Length, written.Length);
            Assert.True(reference.AsSpan().SequenceEqual(written), $"{shard.Value}: compaction and the reference builder differ");
            duplicates += report.DuplicatesDropped;
            shards++;
            Assert.Equal(0, report.DamagedRecords);
            Assert.Equal(report.PointsIn - report.OutOfWindow - report.DuplicatesDropped, report.PointsOut);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(written)), report.Parts[0].Sha256);
        }

        Assert.Equal(4, shards);
        Assert.True(duplicates > 0, "the workload resends and duplicates points");
    }

    [Fact]
    public async Task Thread_count_split_size_and_memory_budget_do_not_change_a_byte()
    {
        await using var kit = await CompactionTestKit.CreateAsync(points: 1_500_000, series: 4000, sharedShards: 1);
        var shard = ShardName.Shared(0);
        var hashes = new List<string>();
        var spilled = false;
        foreach (var (threads, split, budget) in new[] { (2, 64L << 20, 1L << 30), (1, 64L << 20, 1L << 30), (2, 16L << 10, 1L << 30), (2, 100_000L, 1L << 30), (2, 64L << 20, 16L << 20), (1, 50_000L, 16L << 20) })
        {
            var runner = new CompactionRunner(kit.Store, new CompactionOptions
            {
                WorkDirectory = kit.WorkDirectory,
                Parallelism = threads,
                SplitBytes = split,
                MemoryBudgetBytes = budget,
                TargetPartBytes = 256 << 10,
                Force = true,
            });
            var report = await runner.RunAsync(shard, CompactionTestKit.Window);
            spilled |= report.Spills > 0;
            Assert.True(report.StageSeconds["sort"] > 0, "the runs are ordered before the merge");
            Assert.Equal(report.Spills > 0, report.StageSeconds["spill"] > 0);
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (var part in report.Parts)
            {
                sha.AppendData(await kit.ReadAsync(part.Key));
                sha.AppendData(System.Text.Encoding.UTF8.GetBytes(part.Key));
            }

            hashes.Add(Convert.ToHexStringLower(sha.GetHashAndReset()));
        }

        Assert.True(spilled, "a 16 MiB budget must force spills");
        Assert.Single(hashes.Distinct());
    }

    [Fact]
    public async Task The_report_and_the_meter_carry_every_stage_the_peak_working_set_gc_pauses_and_store_calls()
    {
        await using var kit = await CompactionTestKit.CreateAsync(points: 100_000, sharedShards: 1);
        using var meter = new Tailor.Testing.MetricCapture(CompactionMetrics.Name);
        var runner = new CompactionRunner(kit.Store, new CompactionOptions { WorkDirectory = kit.WorkDirectory, MemoryBudgetBytes = 16L << 20, Force = true });
        var report = await runner.RunAsync(ShardName.Shared(0), CompactionTestKit.Window);

        foreach (var stage in new[] { "list", "fetch", "read", "decompress", "decode", "sort", "spill", "encode", "upload", "manifest", "total" })
        {
            Assert.True(report.StageSeconds.ContainsKey(stage), $"the report has no stage {stage}");
            Assert.Contains(meter.Measurements, m => m.Instrument == "tailor.compaction.stage.duration" && m.Tags.GetValueOrDefault("stage") == stage);
        }

        // Planning lists the segment hours, the manifest is put last: both are the job's calls.
        Assert.True(report.StoreCalls.GetValueOrDefault("list") > 0, string.Join(", ", report.StoreCalls));
        Assert.True(report.StoreCalls.GetValueOrDefault("put") > 0, string.Join(", ", report.StoreCalls));
        foreach (var (operation, count) in report.StoreCalls)
        {
            // Other tests' jobs may add to the meter at the same time, never take from it.
            Assert.True(meter.Sum("tailor.compaction.store_calls", ("operation", operation)) >= count, $"{operation}: {count} in the report");
        }

        Assert.True(report.PeakWorkingSetBytes > 0);
        Assert.Contains(meter.Measurements, m => m.Instrument == "tailor.compaction.peak_working_set" && m.Value == report.PeakWorkingSetBytes);
        Assert.Contains(meter.Measurements, m => m.Instrument == "tailor.compaction.gc_pause" && m.Value == report.GcPauseSeconds);
        Assert.True(meter.Sum("tailor.compaction.points.out") >= report.PointsOut);
    }

    [Fact]
    public async Task Jobs_running_side_by_side_in_one_process_each_report_only_their_own_store_calls()
    {
        await using var first = await CompactionTestKit.CreateAsync(points: 100_000, sharedShards: 1);
        await using var second = await CompactionTestKit.CreateAsync(points: 150_000, sharedShards: 1, seed: 5);
        CompactionRunner Runner(CompactionTestKit kit) =>
            new(kit.Store, new CompactionOptions { WorkDirectory = kit.WorkDirectory, MemoryBudgetBytes = 16L << 20, TargetPartBytes = 64 << 10, Force = true });
        var shard = ShardName.Shared(0);

        // Each job once so that a manifest exists (a first run makes fewer calls), then alone, then both at once.
        await Runner(first).RunAsync(shard, CompactionTestKit.Window);
        await Runner(second).RunAsync(shard, CompactionTestKit.Window);
        var firstAlone = (await Runner(first).RunAsync(shard, CompactionTestKit.Window)).StoreCalls;
        var secondAlone = (await Runner(second).RunAsync(shard, CompactionTestKit.Window)).StoreCalls;
        var together = await Task.WhenAll(
            Task.Run(() => Runner(first).RunAsync(shard, CompactionTestKit.Window)),
            Task.Run(() => Runner(second).RunAsync(shard, CompactionTestKit.Window)));

        static string Show(IReadOnlyDictionary<string, long> calls) => string.Join(", ", calls.OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}"));
        Assert.True(firstAlone.GetValueOrDefault("put") > 1, Show(firstAlone));
        Assert.NotEqual(Show(firstAlone), Show(secondAlone));
        Assert.Equal(Show(firstAlone), Show(together[0].StoreCalls));
        Assert.Equal(Show(secondAlone), Show(together[1].StoreCalls));
    }
}
